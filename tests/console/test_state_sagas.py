"""The sagas view state: steps, compensation log, stuck runs first."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.sagas import COMPENSATED, COMPENSATION_FAILED, COMPLETED, SagaView

T0 = 1_700_000_000.0


def saga(kind: str, ts: float, run: str = "r1", **data) -> Event:
    return Event(kind, data, workflow="order", run_id=run, ts=ts)


def failing_run(run: str = "r1") -> list[Event]:
    return [
        saga("saga.started", T0, run, steps=["reserve", "pay", "ship"]),
        saga("saga.step.started", T0, run, step="reserve"),
        saga("saga.step.completed", T0 + 1, run, step="reserve", duration=1.0),
        saga("saga.step.started", T0 + 1, run, step="pay"),
        saga("saga.step.completed", T0 + 2, run, step="pay", duration=1.0),
        saga("saga.step.started", T0 + 2, run, step="ship"),
        saga("saga.step.failed", T0 + 3, run, step="ship", error_type="IOError", error="down"),
        saga("saga.compensation.started", T0 + 4, run, step="pay"),
        saga("saga.compensation.failed", T0 + 5, run, step="pay", error_type="RefundError", error="no", attempt=3),
        saga("saga.compensation.started", T0 + 6, run, step="reserve"),
        saga("saga.compensation.completed", T0 + 7, run, step="reserve"),
        saga("saga.compensation_failed", T0 + 8, run),
    ]


def test_steps_keep_definition_order_with_forward_status():
    view = SagaView(FakeClock(T0))
    view.apply(failing_run())
    run = view.runs["r1"]
    assert [(s.name, s.forward) for s in run.steps.values()] == [
        ("reserve", "completed"), ("pay", "completed"), ("ship", "failed"),
    ]


def test_compensation_log_is_in_the_order_compensations_ran():
    view = SagaView(FakeClock(T0))
    view.apply(failing_run())
    log = view.runs["r1"].log
    assert [(e.step, e.outcome) for e in log] == [
        ("pay", "started"), ("pay", "failed"), ("reserve", "started"), ("reserve", "completed"),
    ]
    assert log[1].error == "no" and log[1].attempt == 3


def test_compensation_failed_run_is_stuck_and_listed_first():
    view = SagaView(FakeClock(T0))
    view.apply([saga("saga.started", T0 + 100, "ok"), saga("saga.completed", T0 + 101, "ok")])
    view.apply(failing_run("bad"))
    rows = view.rows()
    assert rows[0].run_id == "bad" and rows[0].stuck
    assert rows[0].status == COMPENSATION_FAILED
    assert rows[1].status == COMPLETED
    assert view.stuck_count() == 1


def test_failed_compensations_name_the_steps_to_retry():
    view = SagaView(FakeClock(T0))
    view.apply(failing_run())
    assert view.runs["r1"].failed_compensations() == ["pay"]


def test_marked_compensated_records_reason_and_actor():
    view = SagaView(FakeClock(T0))
    view.apply(failing_run())
    view.apply([saga("saga.marked_compensated", T0 + 9, reason="refunded by hand", actor="ops")])
    run = view.runs["r1"]
    assert run.status == COMPENSATED
    assert (run.marked_reason, run.marked_by) == ("refunded by hand", "ops")
    assert run.steps["pay"].compensation == "marked"


def test_retried_compensation_that_succeeds_clears_its_error():
    view = SagaView(FakeClock(T0))
    view.apply(failing_run())
    view.apply([
        saga("saga.compensation.completed", T0 + 20, step="pay"),
        saga("saga.compensated", T0 + 21),
    ])
    run = view.runs["r1"]
    assert run.status == COMPENSATED
    assert run.steps["pay"].compensation == "completed"
    assert run.steps["pay"].compensation_error is None


def test_steps_come_from_the_loaded_spec_when_start_lacks_them():
    view = SagaView(FakeClock(T0))
    view.apply([
        Event("workflow.loaded", {"name": "order", "kind": "saga", "spec": {"steps": ["a", "b"]}}, ts=T0),
        saga("saga.started", T0),
    ])
    assert list(view.runs["r1"].steps) == ["a", "b"]
