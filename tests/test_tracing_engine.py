"""Spans the engine opens by itself: runs, task attempts on worker threads, breakers."""

from __future__ import annotations

import pytest

from engine import Runtime, current_span

dag = pytest.importorskip("engine.dag")

from engine.resilience.retry import RetryPolicy  # noqa: E402


@pytest.fixture
def runtime() -> Runtime:
    return Runtime()


def spans_of(runtime: Runtime) -> list[dict]:
    return [e.data for e in runtime.bus.event_store if e.type == "span.finished"]


def test_task_spans_are_children_of_their_run_span_across_worker_threads(runtime: Runtime) -> None:
    seen_parents: dict[str, str] = {}

    def task(name: str):
        def body(**deps):
            span = current_span()
            seen_parents[name] = span.parent_id
            return name
        return body

    workflow = dag.DAGWorkflow("etl", runtime=runtime, max_parallel=4)
    workflow.add_task("a", task("a"))
    workflow.add_task("b", task("b"))
    workflow.add_task("c", task("c"), ["a", "b"])
    workflow.execute()
    spans = spans_of(runtime)
    (run,) = [s for s in spans if s["parent_id"] is None]
    tasks = [s for s in spans if s["parent_id"] == run["span_id"]]
    assert sorted(s["attributes"]["task"] for s in tasks) == ["a", "b", "c"]
    assert {s["trace_id"] for s in spans} == {run["trace_id"]}
    # Inside the task function the current span is the task's own span.
    assert set(seen_parents.values()) == {run["span_id"]}


def test_one_span_per_task_attempt_exactly(runtime: Runtime) -> None:
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError(f"attempt {calls['n']} failed")
        return "ok"

    workflow = dag.DAGWorkflow("flaky", runtime=runtime)
    workflow.add_task("fetch", flaky, retry=RetryPolicy(max_attempts=3, base_delay=0.001, jitter="none"))
    workflow.execute()
    attempts = [s for s in spans_of(runtime) if s["attributes"].get("task") == "fetch"]
    assert sorted(s["attributes"]["attempt"] for s in attempts) == [1, 2, 3]
    assert [s["status"] for s in sorted(attempts, key=lambda s: s["attributes"]["attempt"])] == [
        "error", "error", "ok",
    ]


def test_a_failed_attempt_span_carries_the_exception(runtime: Runtime) -> None:
    def broken():
        raise ValueError("bad input row 7")

    workflow = dag.DAGWorkflow("broken", runtime=runtime)
    workflow.add_task("parse", broken)
    with pytest.raises(Exception):
        workflow.execute()
    (span,) = [s for s in spans_of(runtime) if s["attributes"].get("task") == "parse"]
    assert span["status"] == "error"
    exception = next(e for e in span["events"] if e["name"] == "exception")
    assert exception["attributes"]["exception.type"] == "ValueError"
    assert exception["attributes"]["exception.message"] == "bad input row 7"


def test_span_finished_events_carry_the_run_id(runtime: Runtime) -> None:
    workflow = dag.DAGWorkflow("ids", runtime=runtime)
    workflow.add_task("only", lambda: 1)
    workflow.execute()
    events = [e for e in runtime.bus.event_store if e.type == "span.finished"]
    run_ids = {e.run_id for e in events}
    assert len(run_ids) == 1 and None not in run_ids
    assert all(e.workflow == "ids" for e in events)


def test_a_replayed_dead_letter_span_links_to_the_original_trace(runtime: Runtime) -> None:
    with runtime.tracer.start_span("handler:orders") as original_span:
        original = runtime.bus.emit(
            "order.placed", {"order": 7}, trace_id=original_span.trace_id, span_id=original_span.span_id
        )
    letter = runtime.dlq.add(
        source="handler", unit="orders", error=RuntimeError("handler down"), payload={"order": 7},
        event=original, trace_id=original.trace_id, span_id=original.span_id,
    )
    runtime.dlq.replay(letter.id)
    (replay,) = [s for s in spans_of(runtime) if s["name"] == "dlq.replay"]
    assert replay["trace_id"] != original_span.trace_id
    assert replay["links"] == [
        {"trace_id": original_span.trace_id, "span_id": original_span.span_id, "attributes": {}}
    ]


def test_breaker_calls_inside_a_trace_are_client_child_spans(runtime: Runtime) -> None:
    breaker = runtime.breakers.get_or_create("payments")
    with runtime.tracer.start_span("task:charge") as task:
        assert breaker.call(lambda: 42) == 42
    (span,) = [s for s in spans_of(runtime) if s["name"] == "breaker.call"]
    assert span["kind"] == "client"
    assert span["parent_id"] == task.span_id
