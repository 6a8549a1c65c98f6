"""DAG failure handling: retries, timeouts, fallbacks, policies, cancel, rerun, dead letters, recovery."""

from __future__ import annotations

import threading
import time

import pytest

from engine import (
    DAGWorkflow,
    EventBus,
    FakeClock,
    RetryPolicy,
    RunCancelledError,
    Runtime,
    TaskStatus,
    TaskTimeoutError,
    WorkflowError,
)


class GateClock(FakeClock):
    """A fake clock whose sleeps wait for the test to open a gate (then jump)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def sleep(self, seconds: float) -> None:
        assert self.gate.wait(5), "nobody opened the gate"
        super().sleep(seconds)


def flaky(failures: int, value="ok"):
    calls = {"n": 0}

    def task(**_):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError(f"boom {calls['n']}")
        return value

    task.calls = calls
    return task


def types_of(events, prefix="task."):
    return [(e.type, e.data.get("task")) for e in events if e.type.startswith(prefix)]


# -- retries ----------------------------------------------------------------------

def test_retry_backoff_holds_no_worker_and_never_sleeps_for_real():
    clock = GateClock()
    runtime = Runtime(EventBus(), clock)
    order = []
    policy = RetryPolicy(max_attempts=2, base_delay=30.0, jitter="none")
    wf = DAGWorkflow(runtime=runtime, max_parallel=1)

    def a():
        order.append("a")
        if len(order) == 1:
            raise ConnectionError("first attempt fails")
        return "a-ok"

    def b():
        # Runs on the only worker while a's 30 s backoff is pending; it opens
        # the gate the backoff's timer waits on. A held worker would deadlock.
        order.append("b")
        clock.gate.set()
        return "b-ok"

    wf.add_task("a", a, retry=policy)
    wf.add_task("b", b)
    start = time.perf_counter()
    assert wf.execute() == {"a": "a-ok", "b": "b-ok"}
    assert order == ["a", "b", "a"]
    assert clock.sleeps == [30.0]
    assert time.perf_counter() - start < 15  # far less than the 30 s backoff


def test_retrying_task_publishes_retrying_then_completes(rt):
    events = []
    rt.bus.subscribe("task.*", events.append)
    task = flaky(2)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("t", task, retry=RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0))
    run = wf.start()
    assert run.wait(5) == {"t": "ok"}
    assert [e.type for e in events] == [
        "task.started", "task.retrying", "task.started", "task.retrying", "task.started", "task.completed",
    ]
    retrying = events[1].data
    assert (retrying["attempt"], retrying["error_type"], retrying["error"]) == (1, "ConnectionError", "boom 1")
    assert events[-1].data["attempt"] == 3
    assert run.attempts == {"t": 3}


def test_non_retryable_error_fails_at_once(rt):
    task = flaky(5)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("t", task, retry=RetryPolicy(max_attempts=5, base_delay=0, max_delay=0, give_up_on=(ConnectionError,)))
    with pytest.raises(WorkflowError):
        wf.execute()
    assert task.calls["n"] == 1


# -- timeouts -----------------------------------------------------------------------

def test_attempt_past_its_timeout_fails_with_task_timeout_and_run_moves_on(rt):
    release = threading.Event()
    wf = DAGWorkflow(runtime=rt, max_parallel=1, failure_policy="continue")
    wf.add_task("stuck", lambda: release.wait(10), timeout=0.05)
    wf.add_task("next", lambda: "ran")
    try:
        with pytest.raises(WorkflowError) as info:
            wf.execute()
    finally:
        release.set()
    error = info.value.errors["stuck"]
    assert isinstance(error, TaskTimeoutError) and error.timeout == 0.05
    assert info.value.results == {"next": "ran"}


def test_timeout_follows_the_fake_clock_without_real_waiting():
    clock = FakeClock()
    runtime = Runtime(EventBus(), clock)
    release = threading.Event()
    wf = DAGWorkflow(runtime=runtime)
    wf.add_task("stuck", lambda: release.wait(10), timeout=60)
    run = wf.start()
    time.sleep(0.05)
    assert not run.done()  # the fake clock has not moved: no timeout yet
    clock.advance(61)
    with pytest.raises(WorkflowError) as info:
        run.wait(5)
    release.set()
    assert isinstance(info.value.errors["stuck"], TaskTimeoutError)


# -- fallbacks ----------------------------------------------------------------------

def test_fallback_value_is_used_when_the_task_fails_for_good(rt):
    events = []
    rt.bus.subscribe("task.*", events.append)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("price", flaky(9), fallback=0)
    wf.add_task("total", lambda price: price + 1, depends_on=["price"])
    assert wf.execute() == {"price": 0, "total": 1}
    assert "task.fallback" in [e.type for e in events]
    assert len(rt.dlq) == 0


def test_fallback_callable_receives_the_error(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("t", flaky(9), fallback=lambda exc: f"fallback after {type(exc).__name__}")
    assert wf.execute() == {"t": "fallback after ConnectionError"}


# -- failure policies ----------------------------------------------------------------

def test_fail_fast_starts_nothing_new_lets_running_finish_and_raises_one_error(rt):
    running = threading.Event()
    started = []
    wf = DAGWorkflow(runtime=rt, max_parallel=2)

    def slow():
        running.set()
        time.sleep(0.1)
        return "slow"

    def bad():
        running.wait(5)
        raise ValueError("bad input")

    wf.add_task("slow", slow)
    wf.add_task("bad", bad)
    wf.add_task("later", lambda: started.append("later"))
    wf.add_task("child", lambda bad: None, depends_on=["bad"])
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    err = info.value
    assert list(err.errors) == ["bad"] and isinstance(err.errors["bad"], ValueError)
    assert err.results == {"slow": "slow"}
    assert err.states["later"] is TaskStatus.SKIPPED
    assert err.states["child"] is TaskStatus.UPSTREAM_FAILED
    assert started == []


def test_continue_runs_everything_not_downstream_of_a_failure(rt):
    events = []
    rt.bus.subscribe("task.skipped", events.append)
    wf = DAGWorkflow(runtime=rt, failure_policy="continue")
    wf.add_task("bad", flaky(9))
    wf.add_task("child", lambda bad: 1, depends_on=["bad"])
    wf.add_task("grandchild", lambda child: 1, depends_on=["child"])
    wf.add_task("ok", lambda: "fine")
    wf.add_task("ok_child", lambda ok: ok + "!", depends_on=["ok"])
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    assert info.value.results == {"ok": "fine", "ok_child": "fine!"}
    assert info.value.states["grandchild"] is TaskStatus.UPSTREAM_FAILED
    assert {(e.data["task"], e.data["reason"]) for e in events} == {
        ("child", "upstream_failed"), ("grandchild", "upstream_failed"),
    }


def test_failed_run_publishes_task_failed_with_traceback_and_run_failed(rt):
    events = []
    rt.bus.subscribe("*", events.append)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("bad", flaky(9))
    with pytest.raises(WorkflowError):
        wf.execute()
    failed = next(e for e in events if e.type == "task.failed")
    assert failed.data["error_type"] == "ConnectionError" and "Traceback" in failed.data["traceback"]
    assert failed.data["attempt"] == 1
    assert events[-1].type == "span.finished" or events[-1].type == "run.failed"
    assert any(e.type == "run.failed" and e.data["failed"] == ["bad"] for e in events)


# -- cancel ------------------------------------------------------------------------------

def test_cancel_stops_unstarted_tasks_and_lets_running_ones_finish(rt):
    events = []
    rt.bus.subscribe("run.*", events.append)
    gate = threading.Event()
    wf = DAGWorkflow(runtime=rt, max_parallel=1)
    wf.add_task("first", lambda: gate.wait(5))
    wf.add_task("second", lambda first: "never", depends_on=["first"])
    wf.add_task("third", lambda: "never")
    run = wf.start()
    assert wf.cancel(run.run_id)
    gate.set()
    with pytest.raises(RunCancelledError) as info:
        run.wait(5)
    assert info.value.results == {"first": True}
    assert run.states["second"] is TaskStatus.CANCELLED
    assert [e.type for e in events] == ["run.started", "run.cancelled"]


# -- rerun from a task --------------------------------------------------------------------

def test_rerun_from_reexecutes_the_task_and_downstream_with_upstream_results(rt):
    calls = []
    broken = {"on": True}

    def transform(extract):
        calls.append("transform")
        if broken["on"]:
            raise RuntimeError("bug")
        return extract * 2

    wf = DAGWorkflow(runtime=rt, failure_policy="continue")
    wf.add_task("extract", lambda: calls.append("extract") or 21)
    wf.add_task("transform", transform, depends_on=["extract"])
    wf.add_task("load", lambda transform: calls.append("load") or transform, depends_on=["transform"])
    first = wf.start()
    with pytest.raises(WorkflowError):
        first.wait(5)
    broken["on"] = False
    calls.clear()
    second = wf.rerun_from("transform", first)
    assert second.wait(5) == {"extract": 21, "transform": 42, "load": 42}
    assert calls == ["transform", "load"]
    assert second.run_id != first.run_id


# -- dead letters --------------------------------------------------------------------------

def test_exhausted_task_is_dead_lettered_once_with_its_inputs(rt):
    wf = DAGWorkflow("pipeline", runtime=rt)
    wf.add_task("a", lambda: {"rows": 3})
    wf.add_task("b", flaky(9), depends_on=["a"], retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0))
    run = wf.start()
    with pytest.raises(WorkflowError):
        run.wait(5)
    letters = rt.dlq.list()
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.source, letter.unit, letter.workflow, letter.attempts) == ("task", "b", "pipeline", 2)
    assert letter.payload == {"inputs": {"a": {"rows": 3}}}
    assert letter.run_id == run.run_id and letter.trace_id


def test_dead_letter_retry_runs_the_task_again_with_its_stored_inputs(rt):
    events = []
    rt.bus.subscribe("task.*", events.append)
    broken = {"on": True}

    def b(a):
        if broken["on"]:
            raise RuntimeError("downstream down")
        return a + 1

    wf = DAGWorkflow("retry-me", runtime=rt)
    wf.add_task("a", lambda: 41)
    wf.add_task("b", b, depends_on=["a"])
    run = wf.start()
    with pytest.raises(WorkflowError):
        run.wait(5)
    letter = rt.dlq.list()[0]
    broken["on"] = False
    events.clear()
    retried = rt.dlq.retry(letter.id, actor="test")
    assert retried.status == "resolved"
    assert [e.type for e in events] == ["task.started", "task.completed"]
    assert events[-1].data["result"] == 42 and events[-1].run_id != run.run_id


def _dead_lettered(rt, broken):
    def b(a):
        if broken["on"]:
            raise RuntimeError("downstream down")
        return a + 1

    wf = DAGWorkflow("retry-run", runtime=rt)
    wf.add_task("a", lambda: 41)
    wf.add_task("b", b, depends_on=["a"])
    run = wf.start()
    with pytest.raises(WorkflowError):
        run.wait(5)
    return run, rt.dlq.list()[0]


def test_dead_letter_retry_is_a_run_of_its_own_that_starts_and_completes(rt):
    broken = {"on": True}
    run, letter = _dead_lettered(rt, broken)
    events = []
    rt.bus.subscribe("*", lambda e: events.append(e) if e.type.startswith(("run.", "task.")) else None)
    broken["on"] = False
    rt.dlq.retry(letter.id, actor="test")
    assert [e.type for e in events] == ["run.started", "task.started", "task.completed", "run.completed"]
    assert len({e.run_id for e in events}) == 1 and events[0].run_id != run.run_id
    assert events[0].data["tasks"] == {"b": []}
    assert events[0].data["retry_of"] == {"run_id": run.run_id, "dead_letter": letter.id}
    assert len({e.trace_id for e in events}) == 1


def test_dead_letter_retry_that_fails_again_ends_its_run_failed(rt):
    run, letter = _dead_lettered(rt, {"on": True})
    events = []
    rt.bus.subscribe("run.*", events.append)
    assert rt.dlq.retry(letter.id, actor="test").status == "dead"
    assert [e.type for e in events] == ["run.started", "run.failed"]
    assert events[-1].data["errors"] == {"b": "RuntimeError: downstream down"}


def test_a_dead_letter_keeps_when_the_first_and_the_last_attempt_failed():
    clock = FakeClock()
    runtime = Runtime(EventBus(), clock)
    wf = DAGWorkflow("spaced", runtime=runtime)
    wf.add_task("a", flaky(9), retry=RetryPolicy(max_attempts=3, base_delay=0.4, multiplier=1.0, jitter="none"))
    start = clock.time()
    with pytest.raises(WorkflowError):
        wf.execute()
    [letter] = runtime.dlq.list()
    assert letter.attempts == 3
    assert (letter.first_failure - start, letter.last_failure - start) == pytest.approx((0.0, 0.8))


def test_dead_letter_non_json_inputs_are_kept_as_repr(rt):
    class Opaque:
        def __repr__(self):
            return "<Opaque>"

    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", Opaque)
    wf.add_task("b", flaky(9), depends_on=["a"])
    with pytest.raises(WorkflowError):
        wf.execute()
    assert rt.dlq.list()[0].payload == {"inputs": {"a": "<Opaque>"}}


# -- crash recovery hooks --------------------------------------------------------------------

def test_restored_results_are_used_and_those_tasks_do_not_run(rt):
    events = []
    rt.bus.subscribe("task.*", events.append)
    calls = []
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: calls.append("a") or 1)
    wf.add_task("b", lambda a: calls.append("b") or a + 1, depends_on=["a"])
    run = wf.start(run_id="run-7", restored_results={"a": 10})
    assert run.wait(5) == {"a": 10, "b": 11}
    assert calls == ["b"] and run.run_id == "run-7"
    assert events[0].type == "task.restored" and events[0].data["task"] == "a"


def test_prior_attempts_count_toward_max_attempts(rt):
    task = flaky(9)
    wf = DAGWorkflow(runtime=rt, failure_policy="continue")
    wf.add_task("t", task, retry=RetryPolicy(max_attempts=3, base_delay=0, max_delay=0))
    run = wf.start(prior_attempts={"t": 1})
    with pytest.raises(WorkflowError):
        run.wait(5)
    assert task.calls["n"] == 2
    assert rt.dlq.list()[0].attempts == 3


def test_poison_task_at_max_attempts_is_dead_lettered_without_running(rt):
    task = flaky(0)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("poison", task, retry=RetryPolicy(max_attempts=2))
    run = wf.start(prior_attempts={"poison": 2})
    with pytest.raises(WorkflowError) as info:
        run.wait(5)
    assert task.calls["n"] == 0
    assert type(info.value.errors["poison"]).__name__ == "AttemptsExhaustedError"
    letter = rt.dlq.list()[0]
    assert (letter.unit, letter.attempts) == ("poison", 2)
