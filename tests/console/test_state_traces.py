"""The traces view state: runs, waterfall rows on a shared axis, critical path."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.traces import TraceView

T0 = 1_700_000_000.0


def span(sid, parent, name, start, end, *, run="r1", trace="t1", status="ok", links=()):
    return Event(
        "span.finished",
        {"trace_id": trace, "span_id": sid, "parent_id": parent, "name": name, "kind": "internal",
         "start_time": T0 + start, "end_time": T0 + end, "duration": end - start, "status": status,
         "attributes": {"k": "v"}, "events": [], "links": list(links)},
        workflow="wf", run_id=run, trace_id=trace, span_id=sid, ts=T0 + end,
    )


def sample() -> list[Event]:
    return [
        span("a", "root", "task:a", 0, 2),
        span("b", "root", "task:b", 0, 5),
        span("c", "root", "task:c", 5, 8, status="error"),
        span("root", None, "run:wf", 0, 10),
    ]


def test_spans_group_into_one_run():
    view = TraceView(FakeClock(T0))
    view.apply(sample())
    (run,) = view.run_list()
    assert run.key == "r1" and len(run.spans) == 4 and run.errors == 1


def test_waterfall_is_a_tree_in_start_order_with_depth():
    view = TraceView(FakeClock(T0))
    view.apply(sample())
    rows = view.waterfall("r1")
    assert [(r.span.span_id, r.depth) for r in rows] == [("root", 0), ("a", 1), ("b", 1), ("c", 1)]


def test_bars_share_one_time_axis():
    view = TraceView(FakeClock(T0))
    view.apply(sample())
    bars = {r.span.span_id: (r.offset, r.width) for r in view.waterfall("r1")}
    assert bars["root"] == (0.0, 1.0)
    assert bars["c"] == (0.5, 0.3)


def test_critical_path_follows_the_last_finishing_child_backwards():
    view = TraceView(FakeClock(T0))
    view.apply(sample())
    assert view.critical_path("r1") == {"root", "c", "b"}


def test_spans_without_run_id_group_by_trace():
    view = TraceView(FakeClock(T0))
    view.apply([span("x", None, "lone", 0, 1, run=None, trace="tX")])
    assert view.run_list()[0].key == "tX"


def test_link_to_another_trace_can_be_followed_to_its_run():
    view = TraceView(FakeClock(T0))
    view.apply(sample())
    view.apply([span("z", None, "replay", 20, 21, run="r2", trace="t2",
                     links=[{"trace_id": "t1", "span_id": "c", "attributes": {}}])])
    link = view.runs["r2"].spans["z"].links[0]
    assert view.run_for_trace(link["trace_id"]) == "r1"


def test_oldest_runs_are_dropped_beyond_the_limit():
    view = TraceView(FakeClock(T0), run_limit=2)
    for i in range(3):
        view.apply([span("s", None, "x", i, i + 1, run=f"r{i}", trace=f"t{i}")])
    assert sorted(view.runs) == ["r1", "r2"]
    assert view.run_for_trace("t0") is None
