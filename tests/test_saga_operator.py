"""Stuck sagas: dead-lettered compensations, operator actions, and resuming runs."""

from __future__ import annotations

import pytest

from engine import RetryPolicy, SagaError, SagaOrchestrator, SagaStateError, SagaStatus
from engine.saga.model import SagaDefinitionError

NO_RETRY = RetryPolicy.no_retry()


class Refunds:
    """A refund service that fails until it is fixed."""

    def __init__(self):
        self.broken = True
        self.refunded = []

    def refund(self, ctx):
        if self.broken:
            raise ConnectionError("refund service down")
        self.refunded.append(ctx["pay"])


def stuck_saga(runtime, refunds, name="order"):
    saga = SagaOrchestrator(name, runtime=runtime, compensation_retry=NO_RETRY)
    saga.add_step("pay", lambda: "p-1", refunds.refund)
    saga.add_step("ship", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError):
        saga.execute(run_id="run-1")
    return saga


def test_failed_compensation_is_parked_with_what_a_retry_needs(runtime):
    saga = stuck_saga(runtime, Refunds())
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert letter.unit == "pay" and letter.workflow == "order" and letter.run_id == "run-1"
    assert letter.payload == {
        "saga": "order", "run_id": "run-1", "step": "pay",
        "context": {"pay": "p-1"}, "failed_step": "ship",
    }
    assert letter.error_type == "ConnectionError"
    assert saga.run("run-1").outcomes["pay"].letter_id == letter.id


def test_compensation_failed_event_lists_the_failed_steps(runtime):
    stuck_saga(runtime, Refunds())
    (event,) = [e for e in runtime.bus.event_store if e.type == "saga.compensation_failed"]
    assert event.data["failed_compensations"] == ["pay"]
    assert event.data["failed_step"] == "ship"
    assert event.run_id == "run-1" and event.workflow == "order"


def test_dead_letter_retry_settles_the_run(runtime):
    refunds = Refunds()
    saga = stuck_saga(runtime, refunds)
    refunds.broken = False
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert runtime.dlq.retry(letter.id).status == "resolved"
    assert refunds.refunded == ["p-1"]
    assert saga.run("run-1").status is SagaStatus.COMPENSATED
    assert [e.type for e in runtime.bus.event_store if e.type == "saga.compensated"] == ["saga.compensated"]


def test_dead_letter_retry_uses_the_current_definition(runtime):
    old = stuck_saga(runtime, Refunds())
    fixed = Refunds()
    fixed.broken = False
    current = SagaOrchestrator("order", runtime=runtime)
    current.add_step("pay", lambda: "p-1", fixed.refund)
    current.add_step("ship", lambda: "s-1", lambda: None)
    runtime.definitions.register("order", current)
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert runtime.dlq.retry(letter.id).status == "resolved"
    assert fixed.refunded == ["p-1"]
    assert old.run("run-1").status is SagaStatus.COMPENSATED


def test_dead_letter_retry_that_fails_again_keeps_the_letter(runtime):
    saga = stuck_saga(runtime, Refunds())
    (letter,) = runtime.dlq.list(source="saga.compensation")
    again = runtime.dlq.retry(letter.id)
    assert again.status == "dead" and again.attempts == 2
    assert saga.run("run-1").status is SagaStatus.COMPENSATION_FAILED


def test_operator_retry_of_compensations_settles_and_resolves_the_letter(runtime):
    refunds = Refunds()
    saga = stuck_saga(runtime, refunds)
    refunds.broken = False
    run = saga.retry_compensations("run-1", actor="alice")
    assert run.status is SagaStatus.COMPENSATED
    assert run.compensated == ["pay"]
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert letter.status == "resolved"
    assert (letter.history[-1].action, letter.history[-1].actor) == ("resolved", "alice")
    started = [e for e in runtime.bus.event_store if e.type == "saga.compensation.started"]
    assert started[-1].data["actor"] == "alice"


def test_a_compensation_letter_keeps_when_the_first_and_the_last_attempt_failed(runtime, fake_clock):
    saga = SagaOrchestrator(
        "order", runtime=runtime,
        compensation_retry=RetryPolicy(max_attempts=3, base_delay=0.4, multiplier=1.0, jitter="none"),
    )
    saga.add_step("pay", lambda: "p-1", Refunds().refund)
    saga.add_step("ship", lambda: 1 / 0, lambda: None)
    start = fake_clock.time()
    with pytest.raises(SagaError):
        saga.execute(run_id="run-1")
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert (letter.first_failure - start, letter.last_failure - start) == pytest.approx((0.0, 0.8))


def test_operator_retry_that_fails_again_leaves_the_run_stuck(runtime):
    saga = stuck_saga(runtime, Refunds())
    run = saga.retry_compensations("run-1")
    assert run.status is SagaStatus.COMPENSATION_FAILED
    assert len(runtime.dlq.list(source="saga.compensation")) == 1


def test_mark_compensated_needs_a_reason(runtime):
    saga = stuck_saga(runtime, Refunds())
    with pytest.raises(SagaStateError, match="needs a reason"):
        saga.mark_compensated("run-1", "  ")
    assert saga.run("run-1").status is SagaStatus.COMPENSATION_FAILED


def test_mark_compensated_records_who_and_why(runtime, fake_clock):
    saga = stuck_saga(runtime, Refunds())
    run = saga.mark_compensated("run-1", "refunded by hand in the PSP console", actor="bob")
    assert run.status is SagaStatus.COMPENSATED
    assert run.notes == [{
        "action": "marked_compensated", "reason": "refunded by hand in the PSP console",
        "actor": "bob", "time": fake_clock.time(), "steps": ["pay"],
    }]
    (event,) = [e for e in runtime.bus.event_store if e.type == "saga.marked_compensated"]
    assert event.data["reason"] == "refunded by hand in the PSP console"
    assert event.data["actor"] == "bob" and event.run_id == "run-1"
    (letter,) = runtime.dlq.list(source="saga.compensation")
    assert letter.status == "discarded"


def test_operator_actions_refuse_a_run_that_is_not_stuck(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.execute(run_id="ok")
    with pytest.raises(SagaStateError, match="completed, not compensation_failed"):
        saga.retry_compensations("ok")
    with pytest.raises(SagaStateError, match="no such run"):
        saga.mark_compensated("missing", "why")


def test_resume_forward_runs_the_steps_after_the_last_completed(runtime):
    calls = []
    saga = SagaOrchestrator("s", runtime=runtime)
    for name in ("a", "b", "c"):
        saga.add_step(name, lambda ctx, name=name: calls.append((name, dict(ctx))) or name, lambda: None)
    result = saga.resume("r-9", {"a": "a"}, direction="forward")
    assert calls == [("b", {"a": "a"}), ("c", {"a": "a", "b": "b"})]
    assert result == {"a": "a", "b": "b", "c": "c"}
    started = [e for e in runtime.bus.event_store if e.type == "saga.started"][0]
    assert started.data["resumed"] is True and started.run_id == "r-9"


def test_resume_compensate_finishes_the_remaining_compensations(runtime):
    undone = []
    saga = SagaOrchestrator("s", runtime=runtime)
    for name in ("a", "b", "c"):
        saga.add_step(name, lambda: 1, lambda name=name: undone.append(name))
    run = saga.resume("r-9", {"a": 1, "b": 2}, compensated=["b"], direction="compensate",
                      failed_step="c")
    assert undone == ["a"]
    assert run.status is SagaStatus.COMPENSATED
    assert run.compensated == ["b", "a"]
    assert saga.run("r-9") is run


def test_resume_backward_is_compensate(runtime):
    undone = []
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: undone.append("a"))
    assert saga.resume("r-1", {"a": 1}, [], "backward").status is SagaStatus.COMPENSATED
    assert undone == ["a"]


def test_resume_forward_that_fails_raises_like_execute(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    saga.add_step("a", lambda: 1, lambda: None)
    saga.add_step("b", lambda: 1 / 0, lambda: None)
    with pytest.raises(SagaError) as info:
        saga.resume("r-2", {"a": 1})
    assert info.value.failed_step == "b"
    assert info.value.status is SagaStatus.COMPENSATED


def test_resume_refuses_completed_steps_that_are_not_a_prefix(runtime):
    saga = SagaOrchestrator("s", runtime=runtime)
    for name in ("a", "b"):
        saga.add_step(name, lambda: 1, lambda: None)
    with pytest.raises(SagaDefinitionError, match="not a prefix"):
        saga.resume("r", {"b": 1})


def test_late_dead_letter_retry_of_a_settled_run_does_not_compensate_twice(runtime):
    refunds = Refunds()
    saga = stuck_saga(runtime, refunds)
    refunds.broken = False
    saga.retry_compensations("run-1")
    (letter,) = runtime.dlq.list(source="saga.compensation")
    retrier = runtime.dlq.retriers()["saga.compensation"]
    retrier(letter)
    assert refunds.refunded == ["p-1"]
