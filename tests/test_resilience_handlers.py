"""Event handlers: retried through the clock, dead-lettered once, retried and replayed."""

from __future__ import annotations

import pytest

from engine import Event, EventBus, EventDrivenWorkflow, RetryPolicy


class Switch:
    """A handler that fails while ``broken`` and records what it handled."""

    def __init__(self, broken: bool = True) -> None:
        self.broken = broken
        self.calls = 0
        self.handled: list[dict] = []

    def __call__(self, event: Event) -> None:
        self.calls += 1
        if self.broken:
            raise ConnectionError("inventory service down")
        self.handled.append(dict(event.data))


def workflow_with(runtime, switch: Switch, retry: RetryPolicy | None, **kwargs) -> EventDrivenWorkflow:
    workflow = EventDrivenWorkflow(name="orders", runtime=runtime, **kwargs)

    @workflow.on_event("order.created", retry=retry)
    def reserve(event: Event) -> None:
        switch(event)

    return workflow


def types(runtime) -> list[str]:
    return [e.type for e in runtime.bus.event_store]


def test_a_failing_handler_is_retried_through_the_runtime_clock(runtime, fake_clock) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, RetryPolicy(max_attempts=3, base_delay=2, jitter="none"))
    workflow.emit("order.created", {"order_id": "o-1"})
    assert switch.calls == 3
    assert fake_clock.sleeps == [2.0, 4.0]
    assert types(runtime).count("retry.scheduled") == 2


def test_an_exhausted_handler_is_dead_lettered_exactly_once_with_its_event(runtime) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, RetryPolicy(max_attempts=3, base_delay=0))
    event = workflow.emit("order.created", {"order_id": "o-1"})
    [letter] = runtime.dlq.list()
    assert (letter.source, letter.unit, letter.workflow, letter.attempts) == (
        "handler", "workflow_with.<locals>.reserve", "orders", 3,
    )
    assert letter.payload == {"order_id": "o-1"}
    assert letter.event["id"] == event.id and letter.event["type"] == "order.created"
    assert letter.error_type == "ConnectionError"
    assert types(runtime).count("dlq.added") == 1


def test_a_handler_that_recovers_within_its_retries_is_not_dead_lettered(runtime) -> None:
    calls: list[int] = []
    workflow = EventDrivenWorkflow(name="orders", runtime=runtime)

    @workflow.on_event("order.created", retry=RetryPolicy(max_attempts=3, base_delay=0))
    def flaky(event: Event) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError("blip")

    workflow.emit("order.created", {})
    assert len(calls) == 2 and len(runtime.dlq) == 0


def test_a_handler_without_a_policy_is_dead_lettered_after_one_attempt(runtime) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, None)
    workflow.emit("order.created", {"order_id": "o-2"})
    assert switch.calls == 1
    assert runtime.dlq.list()[0].attempts == 1


def test_a_dead_lettered_handler_error_still_reaches_the_bus_as_handler_error(runtime) -> None:
    workflow = workflow_with(runtime, Switch(), None)
    workflow.emit("order.created", {})
    errors = [e for e in workflow.event_bus.event_store if e.type == "handler.error"]
    assert [e.data["handler"] for e in errors] == ["workflow_with.<locals>.reserve"]


def test_dead_letter_false_keeps_the_failure_out_of_the_queue(runtime) -> None:
    workflow = EventDrivenWorkflow(name="orders", runtime=runtime)
    workflow.on_event("order.created", dead_letter=False)(Switch())
    workflow.emit("order.created", {})
    assert len(runtime.dlq) == 0


def test_events_redelivered_by_bus_replay_are_not_dead_lettered_again(runtime) -> None:
    workflow = workflow_with(runtime, Switch(), None)
    workflow.emit("order.created", {})
    workflow.event_bus.replay()
    assert len(runtime.dlq) == 1


def test_retry_of_a_handler_letter_runs_the_fixed_handler_on_the_stored_event(runtime) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, None)
    workflow.emit("order.created", {"order_id": "o-3"})
    letter = runtime.dlq.list()[0]
    assert runtime.dlq.retry(letter.id).status == "dead"
    switch.broken = False
    assert runtime.dlq.retry(letter.id).status == "resolved"
    assert switch.handled == [{"order_id": "o-3"}]


def test_retry_uses_the_current_definition_of_the_workflow(runtime) -> None:
    old = workflow_with(runtime, Switch(), None)
    old.emit("order.created", {"order_id": "o-4"})
    letter = runtime.dlq.list()[0]
    fixed = Switch(broken=False)
    new = workflow_with(runtime, fixed, None)
    runtime.definitions.register("orders", new)
    assert runtime.dlq.retry(letter.id).status == "resolved"
    assert fixed.handled == [{"order_id": "o-4"}]


def test_a_handler_letter_keeps_when_the_first_and_the_last_attempt_failed(runtime, fake_clock) -> None:
    workflow = workflow_with(runtime, Switch(), RetryPolicy(max_attempts=3, base_delay=0.4, multiplier=1.0, jitter="none"))
    start = fake_clock.time()
    workflow.emit("order.created", {"order_id": "o-7"})
    [letter] = runtime.dlq.list()
    assert letter.attempts == 3
    assert (letter.first_failure - start, letter.last_failure - start) == pytest.approx((0.0, 0.8))


def test_each_handler_call_has_a_span_and_its_letter_names_the_run_and_trace(runtime) -> None:
    spans = []
    runtime.bus.subscribe("span.finished", spans.append)
    workflow_with(runtime, Switch(), None).emit("order.created", {"order_id": "o-8"})
    [letter] = runtime.dlq.list()
    [span] = [s for s in spans if s.data["name"] == f"handler {letter.unit}"]
    assert letter.run_id and span.data["run_id"] == letter.run_id
    assert (letter.trace_id, letter.span_id) == (span.data["trace_id"], span.data["span_id"])
    assert span.data["status"] == "error"


def test_a_handler_of_an_event_of_a_run_works_in_that_run(runtime) -> None:
    workflow = workflow_with(runtime, Switch(), None)
    workflow.event_bus.publish(Event("order.created", {"order_id": "o-9"}, workflow="orders", run_id="run-9"))
    assert runtime.dlq.list()[0].run_id == "run-9"


def test_replay_publishes_the_original_event_on_the_workflows_bus(runtime) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, None)
    original = workflow.emit("order.created", {"order_id": "o-5"})
    letter = runtime.dlq.list()[0]
    switch.broken = False
    done = runtime.dlq.replay(letter.id, actor="alice", reason="service is back")
    assert done.status == "resolved"
    assert switch.handled == [{"order_id": "o-5"}]
    replayed = [e for e in workflow.event_bus.event_store if e.type == "order.created"]
    assert len(replayed) == 2 and replayed[1].id != original.id
    # The handler's span ends inside the replay's.
    assert types(runtime)[-4:] == ["dlq.replayed", "span.finished", "span.finished", "dlq.resolved"]


def test_replay_keeps_the_trace_and_links_the_replay_span_to_the_original(runtime) -> None:
    bus = runtime.bus
    switch = Switch()
    workflow = workflow_with(runtime, switch, None, bus=bus)
    bus.publish(Event("order.created", {"order_id": "o-6"}, trace_id="a" * 32, span_id="b" * 16))
    letter = runtime.dlq.list()[0]
    switch.broken = False
    runtime.dlq.replay(letter.id)
    replayed = [e for e in bus.event_store if e.type == "order.created"][-1]
    assert replayed.trace_id == "a" * 32
    [span] = [s for s in runtime.tracer.finished_spans() if s.name == "dlq.replay"]
    assert [(link.trace_id, link.span_id) for link in span.links] == [("a" * 32, "b" * 16)]
    assert replayed.span_id == span.span_id
    assert workflow.handlers[0].pattern == "order.created"


def test_a_replay_that_fails_again_puts_the_letter_back_without_a_second_letter(runtime) -> None:
    workflow = workflow_with(runtime, Switch(), RetryPolicy(max_attempts=2, base_delay=0))
    workflow.emit("order.created", {"order_id": "o-7"})
    letter = runtime.dlq.list()[0]
    back = runtime.dlq.replay(letter.id)
    assert back.status == "dead" and back.attempts == letter.attempts + 1
    assert len(runtime.dlq) == 1


def test_replay_of_an_edited_payload_publishes_the_edited_data(runtime) -> None:
    switch = Switch()
    workflow = workflow_with(runtime, switch, None)
    workflow.emit("order.created", {"order_id": "typo"})
    letter = runtime.dlq.list()[0]
    runtime.dlq.edit_payload(letter.id, {"order_id": "o-8"})
    switch.broken = False
    runtime.dlq.replay(letter.id)
    assert switch.handled == [{"order_id": "o-8"}]


def test_replay_of_a_letter_without_an_event_is_refused(runtime) -> None:
    from engine import DeadLetterStateError

    letter = runtime.dlq.add(source="task", unit="t", error="boom")
    with pytest.raises(DeadLetterStateError, match="no original event"):
        runtime.dlq.replay(letter.id)
    assert runtime.dlq.get(letter.id).status == "dead"


def test_retry_of_a_handler_no_longer_loaded_fails_with_a_clear_error(runtime) -> None:
    workflow = workflow_with(runtime, Switch(), None)
    workflow.emit("order.created", {})
    workflow.detach()
    letter = runtime.dlq.list()[0]
    back = runtime.dlq.retry(letter.id)
    assert back.status == "dead" and back.error_type.endswith("HandlerNotFound")
    assert "reserve" in back.error


def test_handler_names_stay_visible_to_the_bus_and_the_loader(runtime) -> None:
    bus = EventBus()
    workflow = EventDrivenWorkflow(bus=bus, runtime=runtime)

    @workflow.on_event("x")
    def on_x(event: Event) -> None:
        return None

    assert [h.__name__ for _, h in workflow.subscriptions] == ["on_x"]


def test_on_event_refuses_a_retry_that_is_not_a_policy(runtime) -> None:
    from engine import FlowError

    workflow = EventDrivenWorkflow(runtime=runtime)
    with pytest.raises(FlowError, match="RetryPolicy"):
        workflow.on_event("x", retry=3)  # type: ignore[arg-type]
