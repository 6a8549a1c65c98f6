"""Tracing: the seed's API, W3C ids, context propagation, events and links."""

from __future__ import annotations

import contextvars
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import (
    FakeClock,
    Link,
    Runtime,
    Span,
    Tracer,
    TracingError,
    current_run_id,
    current_span,
    run_scope,
    use_runtime,
)
from engine.observe.trace_ids import is_span_id, is_trace_id, new_span_id, new_trace_id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(clock: FakeClock) -> Runtime:
    return Runtime(clock=clock)


@pytest.fixture
def tracer(runtime: Runtime) -> Tracer:
    return Tracer(runtime)


@pytest.fixture
def finished(runtime: Runtime) -> list:
    events: list = []
    runtime.bus.subscribe("span.finished", events.append)
    return events


def test_seed_usage_records_name_attributes_and_duration(tracer: Tracer, clock: FakeClock) -> None:
    with tracer.start_span("process_order", {"order_id": 7}) as span:
        clock.advance(2.5)
    assert span.name == "process_order"
    assert span.attributes == {"order_id": 7}
    assert span.status == "ok"
    assert span.parent_id is None
    assert span.end_time == pytest.approx(span.start_time + 2.5)
    assert span.duration() == pytest.approx(2.5)
    assert tracer.spans[span.span_id] is span


def test_open_span_duration_grows_with_the_clock(tracer: Tracer, clock: FakeClock) -> None:
    with tracer.start_span("work") as span:
        clock.advance(1.0)
        assert span.duration() == pytest.approx(1.0)
        assert span.end_time is None


def test_ids_are_w3c_trace_context_hex(tracer: Tracer) -> None:
    with tracer.start_span("a") as span:
        pass
    assert re.fullmatch(r"[0-9a-f]{32}", span.trace_id)
    assert re.fullmatch(r"[0-9a-f]{16}", span.span_id)
    assert is_trace_id(span.trace_id) and is_span_id(span.span_id)


def test_generated_ids_do_not_repeat() -> None:
    assert len({new_trace_id() for _ in range(10_000)}) == 10_000
    assert len({new_span_id() for _ in range(10_000)}) == 10_000


def test_all_zero_ids_are_invalid() -> None:
    assert not is_trace_id("0" * 32)
    assert not is_span_id("0" * 16)
    assert not is_span_id("ABCDEF0123456789")


def test_nested_span_is_child_in_the_same_trace(tracer: Tracer) -> None:
    with tracer.start_span("run") as run:
        with tracer.start_span("task") as task:
            assert current_span() is task
        assert current_span() is run
    assert current_span() is None
    assert task.trace_id == run.trace_id
    assert task.parent_id == run.span_id


def test_sibling_root_spans_start_different_traces(tracer: Tracer) -> None:
    with tracer.start_span("one") as one:
        pass
    with tracer.start_span("two") as two:
        pass
    assert one.trace_id != two.trace_id


def test_exception_marks_span_error_and_propagates(tracer: Tracer) -> None:
    with pytest.raises(KeyError):
        with tracer.start_span("failing") as span:
            raise KeyError("missing")
    assert span.status == "error"
    assert span.status_message == "KeyError: 'missing'"
    assert span.attributes["error"] == "'missing'"


def test_exception_is_recorded_as_span_event_with_type_and_message(tracer: Tracer) -> None:
    with pytest.raises(ValueError):
        with tracer.start_span("failing") as span:
            raise ValueError("bad input")
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "bad input"
    assert "ValueError: bad input" in event.attributes["exception.stacktrace"]


def test_error_span_restores_the_parent_as_current(tracer: Tracer) -> None:
    with tracer.start_span("run") as run:
        with pytest.raises(RuntimeError):
            with tracer.start_span("task"):
                raise RuntimeError("x")
        assert current_span() is run


def test_span_finished_event_carries_span_dict_and_correlation(tracer: Tracer, finished: list) -> None:
    with run_scope("run-1"):
        with tracer.start_span("task", {"workflow": "etl", "task": "load"}, kind="client") as span:
            span.add_event("retry", {"attempt": 2})
    (event,) = finished
    assert event.type == "span.finished"
    assert (event.trace_id, event.span_id, event.run_id, event.workflow) == (
        span.trace_id, span.span_id, "run-1", "etl",
    )
    data = event.data
    assert data["name"] == "task" and data["kind"] == "client"
    assert data["parent_id"] is None
    assert data["duration"] == pytest.approx(span.duration())
    assert data["attributes"] == {"workflow": "etl", "task": "load"}
    assert data["events"][0]["name"] == "retry"
    assert data["events"][0]["attributes"] == {"attempt": 2}
    assert data["status"] == "ok" and data["links"] == []


def test_span_finished_data_turns_odd_attribute_values_into_strings(tracer: Tracer, finished: list) -> None:
    with tracer.start_span("task", {"obj": object(), "n": 1, "tags": ("a", "b")}):
        pass
    attributes = finished[0].data["attributes"]
    assert attributes["obj"].startswith("<object object")
    assert attributes["n"] == 1
    assert attributes["tags"] == ["a", "b"]


def test_span_finished_data_is_a_read_only_mapping_equal_to_the_span_dict(tracer: Tracer, finished: list) -> None:
    from collections.abc import Mapping, MutableMapping

    with tracer.start_span("task", {"workflow": "etl"}) as span:
        span.add_event("retry", {"attempt": 2})
    data = finished[0].data
    assert isinstance(data, Mapping) and not isinstance(data, MutableMapping)
    assert data == span.to_dict() and dict(data) == span.to_dict()
    assert list(data) == list(span.to_dict()) and len(data) == len(span.to_dict())
    assert "name" in data and "nope" not in data and data.get("nope", 1) == 1
    with pytest.raises(KeyError):
        data["nope"]


def test_changing_what_span_finished_data_returns_leaves_the_span_alone(tracer: Tracer, finished: list) -> None:
    with tracer.start_span("task", {"workflow": "etl"}) as span:
        span.add_event("retry", {"attempt": 2})
    data = finished[0].data
    data["attributes"]["workflow"] = "changed"
    data["events"].clear()
    assert span.attributes == {"workflow": "etl"} and len(span.events) == 1
    assert data["attributes"] == {"workflow": "etl"} and len(data["events"]) == 1


def test_span_finished_data_pickles_copies_and_encodes_as_a_plain_dict(tracer: Tracer, finished: list) -> None:
    import copy
    import json
    import pickle

    with tracer.start_span("task", {"workflow": "etl"}) as span:
        pass
    data = finished[0].data
    for twin in (pickle.loads(pickle.dumps(data)), copy.copy(data), copy.deepcopy(data)):
        assert type(twin) is dict and twin == span.to_dict()
    assert json.loads(json.dumps(finished[0].to_dict()))["data"] == json.loads(json.dumps(span.to_dict()))


def test_a_span_finished_event_pickles_and_copies_as_a_plain_event_with_the_span_dict(
    tracer: Tracer, finished: list
) -> None:
    import copy
    import dataclasses
    import pickle

    from engine import Event

    with tracer.start_span("task", {"workflow": "etl"}) as span:
        pass
    event = finished[0]
    assert isinstance(event, Event) and dataclasses.is_dataclass(event) and not hasattr(event, "__dict__")
    for twin in (pickle.loads(pickle.dumps(event)), copy.copy(event), copy.deepcopy(event)):
        assert type(twin) is Event and twin == event
        assert (twin.type, twin.seq, twin.ts, twin.span_id) == (event.type, event.seq, event.ts, span.span_id)
        assert type(twin.data) is dict and twin.data == span.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = {}  # type: ignore[misc]


def test_workflow_is_inherited_from_the_parent_span(tracer: Tracer) -> None:
    with tracer.start_span("run", {"workflow": "etl"}):
        with tracer.start_span("task") as task:
            pass
    assert task.workflow == "etl"


def test_run_scope_sets_and_restores_current_run_id() -> None:
    assert current_run_id() is None
    with run_scope("r-7"):
        assert current_run_id() == "r-7"
    assert current_run_id() is None


def test_span_takes_the_current_run_id(tracer: Tracer) -> None:
    with run_scope("r-9"), tracer.start_span("task") as span:
        pass
    assert span.run_id == "r-9"


def test_concurrent_threads_never_become_each_others_children(tracer: Tracer) -> None:
    barrier = threading.Barrier(4)
    spans: dict[int, tuple[Span, Span]] = {}

    def work(i: int) -> None:
        with tracer.start_span(f"outer-{i}") as outer:
            barrier.wait()
            with tracer.start_span(f"inner-{i}") as inner:
                barrier.wait()
        spans[i] = (outer, inner)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for outer, inner in spans.values():
        assert outer.parent_id is None
        assert inner.parent_id == outer.span_id
    assert len({outer.trace_id for outer, _ in spans.values()}) == 4


def test_copied_context_carries_the_parent_span_into_a_worker_thread(tracer: Tracer) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        with run_scope("r-1"), tracer.start_span("run") as run:
            def task() -> Span:
                with tracer.start_span("task") as span:
                    return span

            futures = [pool.submit(contextvars.copy_context().run, task) for _ in range(4)]
            children = [f.result() for f in futures]
    for child in children:
        assert child.parent_id == run.span_id
        assert child.trace_id == run.trace_id
        assert child.run_id == "r-1"


def test_worker_thread_without_copied_context_starts_a_new_trace(tracer: Tracer) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        with tracer.start_span("run") as run:
            child = pool.submit(lambda: tracer.start_span("task").__enter__()).result()
    assert child.trace_id != run.trace_id


def test_explicit_parent_none_starts_a_new_trace(tracer: Tracer) -> None:
    with tracer.start_span("run") as run:
        with tracer.start_span("detached", parent=None) as detached:
            pass
    assert detached.parent_id is None
    assert detached.trace_id != run.trace_id


def test_explicit_parent_overrides_the_context(tracer: Tracer) -> None:
    with tracer.start_span("run") as run:
        pass
    with tracer.start_span("late", parent=run) as late:
        pass
    assert late.parent_id == run.span_id and late.trace_id == run.trace_id


def test_links_accept_tuples_spans_and_mappings(tracer: Tracer) -> None:
    with tracer.start_span("original") as original:
        pass
    links = [
        ("a" * 32, "b" * 16, {"reason": "replay"}),
        original,
        {"trace_id": "c" * 32, "span_id": "d" * 16},
    ]
    with tracer.start_span("replay", links=links) as span:
        pass
    assert span.links == [
        Link("a" * 32, "b" * 16, {"reason": "replay"}),
        Link(original.trace_id, original.span_id),
        Link("c" * 32, "d" * 16),
    ]


def test_link_is_published_with_the_span(tracer: Tracer, finished: list) -> None:
    with tracer.start_span("replay", links=[("a" * 32, "b" * 16, {"dlq.letter": "L1"})]):
        pass
    assert finished[0].data["links"] == [
        {"trace_id": "a" * 32, "span_id": "b" * 16, "attributes": {"dlq.letter": "L1"}}
    ]


def test_a_bad_link_is_rejected_with_a_clear_error(tracer: Tracer) -> None:
    with pytest.raises(TracingError, match="cannot link to 42"):
        tracer.start_span("x", links=[42])


def test_unknown_kind_is_rejected(tracer: Tracer) -> None:
    with pytest.raises(TracingError, match="kind must be one of"):
        tracer.start_span("x", kind="weird")


def test_span_event_is_timestamped_by_the_clock(tracer: Tracer, clock: FakeClock) -> None:
    with tracer.start_span("task") as span:
        clock.advance(3)
        event = span.add_event("attempt", {"n": 2})
    assert event.timestamp == pytest.approx(span.start_time + 3)


def test_set_status_rejects_unknown_status(tracer: Tracer) -> None:
    with tracer.start_span("task") as span:
        with pytest.raises(TracingError, match="status must be"):
            span.set_status("meh")


def test_span_ends_and_publishes_only_once(tracer: Tracer, finished: list) -> None:
    with tracer.start_span("task") as span:
        pass
    span.end()
    span.end()
    assert len(finished) == 1


def test_finished_span_buffer_is_bounded(runtime: Runtime) -> None:
    tracer = Tracer(runtime, max_spans=5)
    for i in range(12):
        with tracer.start_span(f"s{i}"):
            pass
    assert [s.name for s in tracer.finished_spans()] == [f"s{i}" for i in range(7, 12)]
    assert tracer.dropped == 7
    assert len(tracer.spans) == 5


def test_spans_cleared_from_the_buffer_are_not_counted_as_dropped(runtime: Runtime) -> None:
    tracer = Tracer(runtime, max_spans=5)
    for i in range(7):
        with tracer.start_span(f"a{i}"):
            pass
    tracer.clear()
    for i in range(6):
        with tracer.start_span(f"b{i}"):
            pass
    assert tracer.dropped == 2 + 1
    assert [s.name for s in tracer.finished_spans()] == [f"b{i}" for i in range(1, 6)]


def test_dropped_spans_are_counted_exactly_across_threads(runtime: Runtime) -> None:
    tracer = Tracer(runtime, max_spans=10, publish=False)

    def many() -> None:
        for _ in range(500):
            with tracer.start_span("s"):
                pass

    threads = [threading.Thread(target=many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tracer.dropped == 4 * 500 - 10


def test_spans_view_includes_open_spans(tracer: Tracer) -> None:
    with tracer.start_span("open") as span:
        assert tracer.spans[span.span_id] is span
        assert tracer.open_spans() == [span]
    assert tracer.open_spans() == []


def test_bad_buffer_size_is_rejected(runtime: Runtime) -> None:
    with pytest.raises(TracingError, match="max_spans"):
        Tracer(runtime, max_spans=0)


def test_publish_false_keeps_spans_off_the_bus(runtime: Runtime, finished: list) -> None:
    tracer = Tracer(runtime, publish=False)
    with tracer.start_span("quiet"):
        pass
    assert finished == []
    assert len(tracer.finished_spans()) == 1


def test_processor_sees_each_finished_span(tracer: Tracer) -> None:
    seen: list[Span] = []
    tracer.add_span_processor(seen.append)
    with tracer.start_span("a"):
        pass
    assert [s.name for s in seen] == ["a"]


def test_removed_processor_sees_nothing_more(tracer: Tracer) -> None:
    seen: list[Span] = []
    tracer.add_span_processor(seen.append)
    assert tracer.remove_span_processor(seen.append) is True
    assert tracer.remove_span_processor(seen.append) is False
    with tracer.start_span("a"):
        pass
    assert seen == []


def test_failing_processor_does_not_fail_the_traced_work(tracer: Tracer, finished: list) -> None:
    def broken(span: Span) -> None:
        raise RuntimeError("exporter down")

    tracer.add_span_processor(broken)
    with tracer.start_span("a"):
        pass
    assert len(finished) == 1


def test_tracer_without_runtime_uses_the_current_runtime(runtime: Runtime, finished: list) -> None:
    with use_runtime(runtime):
        tracer = Tracer()
    with tracer.start_span("a"):
        pass
    assert len(finished) == 1


def test_runtime_tracer_is_shared(runtime: Runtime) -> None:
    assert runtime.tracer is runtime.tracer


def test_seed_style_span_can_be_built_and_finished_directly() -> None:
    span = Span("t" * 32, "s" * 16, None, "manual")
    assert span.status == "ok" and span.attributes == {}
    span.finish()
    assert span.end_time is not None and span.duration() >= 0


def test_trace_lists_spans_of_one_trace_in_start_order(tracer: Tracer, clock: FakeClock) -> None:
    with tracer.start_span("run") as run:
        clock.advance(1)
        with tracer.start_span("a"):
            pass
        clock.advance(1)
        with tracer.start_span("b"):
            pass
    with tracer.start_span("other"):
        pass
    assert [s.name for s in tracer.trace(run.trace_id)] == ["run", "a", "b"]


def test_disabled_tracer_still_nests_but_keeps_and_publishes_nothing(runtime: Runtime, finished: list) -> None:
    tracer = Tracer(runtime, enabled=False)
    seen: list[Span] = []
    tracer.add_span_processor(seen.append)
    with tracer.start_span("run") as run:
        with tracer.start_span("task") as task:
            pass
    assert task.parent_id == run.span_id
    assert finished == [] and seen == []
    assert tracer.spans == {}
