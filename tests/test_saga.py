"""SagaOrchestrator: the seed's example, statuses, context, timeouts, events, spans."""

from __future__ import annotations

import threading

import pytest

from engine import RetryPolicy, SagaError, SagaOrchestrator, SagaStatus, SagaStepTimeout
from engine.saga.model import SagaDefinitionError


def saga_events(runtime):
    return [e for e in runtime.bus.event_store if e.type.startswith("saga.")]


def test_seed_order_saga_example_runs_unchanged(capsys):
    # The seed's usage example, verbatim.
    # E-commerce order saga
    saga = SagaOrchestrator("OrderSaga")

    # Step 1: Reserve inventory
    def reserve_inventory():
        print("  -> Reserving inventory")
        # Simulate API call
        return {"reservation_id": "res-123"}

    def release_inventory():
        print("  <- Releasing inventory")
        # Simulate API call

    saga.add_step("reserve_inventory", reserve_inventory, release_inventory)

    # Step 2: Process payment
    def process_payment():
        print("  -> Processing payment")
        # Simulate payment processing
        return {"payment_id": "pay-456"}

    def refund_payment():
        print("  <- Refunding payment")
        # Simulate refund

    saga.add_step("process_payment", process_payment, refund_payment)

    # Step 3: Create shipment
    def create_shipment():
        print("  -> Creating shipment")
        # Simulate failure
        raise Exception("Shipment service unavailable")

    def cancel_shipment():
        print("  <- Canceling shipment")

    saga.add_step("create_shipment", create_shipment, cancel_shipment)

    # Execute saga (will fail and compensate)
    try:
        result = saga.execute()  # noqa: F841 (the seed example, verbatim)
    except Exception as e:  # noqa: F841
        print(f"\nSaga result: {saga.status}")

    out = capsys.readouterr().out
    assert out.index("<- Refunding payment") < out.index("<- Releasing inventory")
    assert "Canceling shipment" not in out
    assert "Saga result: SagaStatus.COMPENSATED" in out


def test_successful_saga_returns_results_by_step(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: 2, lambda: None)
    assert saga.execute() == {"a": 1, "b": 2}
    assert saga.status is SagaStatus.COMPLETED
    assert [s.name for s in saga.executed_steps] == ["a", "b"]


def test_saga_error_names_failed_step_error_and_each_compensation(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: (_ for _ in ()).throw(ValueError("card declined")), lambda: None)
    with pytest.raises(SagaError) as info:
        saga.execute()
    error = info.value
    assert error.failed_step == "b"
    assert isinstance(error.error, ValueError)
    assert error.__cause__ is error.error
    assert [(c.step, c.status) for c in error.compensations] == [("a", "compensated")]
    assert error.status is SagaStatus.COMPENSATED
    assert "failed at step 'b': ValueError: card declined; a compensated" in str(error)


def test_steps_taking_a_parameter_receive_the_results_so_far(runtime):
    seen = {}
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("reserve", lambda: {"id": "r-1"}, lambda: None)
    saga.add_step("pay", lambda ctx: seen.setdefault("pay", dict(ctx)) and "p-1", lambda: None)
    saga.execute()
    assert seen["pay"] == {"reserve": {"id": "r-1"}}


def test_compensation_taking_a_parameter_receives_the_context(runtime):
    released = []
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("reserve", lambda: {"id": "r-1"}, lambda ctx: released.append(ctx["reserve"]["id"]))
    saga.add_step("fail", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError):
        saga.execute()
    assert released == ["r-1"]


def test_step_that_times_out_fails_the_saga_and_is_compensated(runtime):
    release = threading.Event()
    undone = []
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: undone.append("a"))
    saga.add_step("slow", lambda: release.wait(5), lambda: undone.append("slow"), timeout=0.05)
    try:
        with pytest.raises(SagaError) as info:
            saga.execute()
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name == "saga-s-slow":
                thread.join(5)
    assert isinstance(info.value.error, SagaStepTimeout)
    assert undone == ["slow", "a"]
    failed = [e for e in saga_events(runtime) if e.type == "saga.step.failed"]
    assert failed[0].data["timed_out"] is True


def test_step_within_its_timeout_returns_its_result(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: "ok", lambda: None, timeout=5)
    assert saga.execute() == {"a": "ok"}


def test_events_of_a_run_carry_workflow_and_run_id(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: {"x": 1}, lambda: None)
    saga.execute(run_id="run-1")
    events = saga_events(runtime)
    assert [e.type for e in events] == [
        "saga.started", "saga.step.started", "saga.step.completed", "saga.completed",
    ]
    assert all(e.workflow == "s" and e.run_id == "run-1" for e in events)
    assert events[2].data["step"] == "a"
    assert events[2].data["result"] == {"x": 1}
    assert events[2].data["status"] == "running"
    assert events[3].data["status"] == "completed"


def test_result_that_is_not_json_friendly_is_not_put_in_events(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: object(), lambda: None)
    saga.execute()
    completed = [e for e in saga_events(runtime) if e.type == "saga.step.completed"][0]
    assert completed.data["result"] is None
    assert completed.data["result_recorded"] is False


def test_failed_run_publishes_failure_and_compensation_events(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError):
        saga.execute()
    assert [e.type for e in saga_events(runtime)] == [
        "saga.started",
        "saga.step.started", "saga.step.completed",
        "saga.step.started", "saga.step.failed",
        "saga.compensation.started", "saga.compensation.completed",
        "saga.compensated",
    ]
    failed = [e for e in saga_events(runtime) if e.type == "saga.step.failed"][0]
    assert failed.data["error_type"] == "ZeroDivisionError"
    assert "Traceback" in failed.data["traceback"]


def test_each_step_and_compensation_gets_a_span_under_the_run(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError):
        saga.execute(run_id="r-1")
    spans = {s.name: s for s in runtime.tracer.finished_spans()}
    root = spans["saga:s"]
    assert spans["step:a"].parent_id == root.span_id
    assert spans["step:b"].status == "error"
    assert spans["compensate:a"].parent_id == root.span_id
    assert spans["step:a"].run_id == "r-1"


def test_each_run_gets_its_own_run_id_and_record(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.execute()
    saga.execute()
    runs = saga.runs()
    assert len({r.run_id for r in runs}) == 2
    assert all(r.status is SagaStatus.COMPLETED for r in runs)


def test_describe_lists_the_steps(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: 1, lambda: None)
    assert saga.describe() == {"steps": ["a", "b"]}


def test_duplicate_step_name_is_refused(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    with pytest.raises(SagaDefinitionError, match="'a' is defined twice"):
        saga.add_step("a", lambda: 1, lambda: None)


def test_compensation_is_retried_through_the_runtime_clock(runtime, fake_clock):
    calls = []

    def flaky_refund():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("refund service down")

    saga = SagaOrchestrator(
        "s", runtime=runtime,
        compensation_retry=RetryPolicy(max_attempts=3, base_delay=1, jitter="none"),
    )
    saga.add_step("pay", lambda: 1, flaky_refund)
    saga.add_step("ship", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError) as info:
        saga.execute()
    assert len(calls) == 3
    assert fake_clock.sleeps == [1, 2]
    assert info.value.status is SagaStatus.COMPENSATED
    assert info.value.compensations[0].attempts == 3
