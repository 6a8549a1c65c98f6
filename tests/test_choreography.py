"""SagaChoreography: the seed's order flow run by services over the bus."""

from __future__ import annotations

import pytest

from engine import ChoreographyError, Event, RetryPolicy, SagaChoreography, SagaStatus


def order_flow(runtime, calls, *, shipping_fails=True, refund_fails=False):
    chor = SagaChoreography(
        "OrderChoreography", runtime=runtime, compensation_retry=RetryPolicy.no_retry()
    )

    def reserve_inventory(event):
        calls.append("reserve")
        chor.emit("inventory.reserved", {"order_id": event.data["order_id"]})
        return {"reservation_id": "res-123"}

    def release_inventory(event):
        calls.append(f"release {event.data['result']['reservation_id']}")

    def process_payment(event):
        calls.append("pay")
        chor.emit("payment.completed", {"order_id": event.data["order_id"]})
        return {"payment_id": "pay-456"}

    def refund_payment(event):
        calls.append(f"refund {event.data['result']['payment_id']}")
        if refund_fails is True or (isinstance(refund_fails, dict) and refund_fails["refund"]):
            raise ConnectionError("refund service down")

    def create_shipment(event):
        calls.append("ship")
        if shipping_fails:
            raise Exception("Shipment service unavailable")
        chor.emit("order.shipped", {"order_id": event.data["order_id"]})

    def cancel_shipment(event):
        calls.append("cancel shipment")

    chor.on_event("order.created", reserve_inventory, release_inventory)
    chor.on_event("inventory.reserved", process_payment, refund_payment)
    chor.on_event("payment.completed", create_shipment, cancel_shipment)
    chor.complete_on("order.shipped")
    return chor


def test_failing_shipment_compensates_completed_steps_in_reverse_through_events(runtime):
    calls = []
    chor = order_flow(runtime, calls)
    chor.emit("order.created", {"order_id": "o-1"})
    assert calls == ["reserve", "pay", "ship", "refund pay-456", "release res-123"]
    instance = chor.instances["o-1"]
    assert instance.status is SagaStatus.COMPENSATED
    assert instance.failed_step == "payment.completed"
    types = [e.type for e in runtime.bus.event_store]
    assert types.index("inventory.reserved.compensate") < types.index("order.created.compensate")
    assert types[-1] == "saga.compensated"


def test_every_saga_event_is_correlated_by_order_id(runtime):
    chor = order_flow(runtime, [])
    chor.emit("order.created", {"order_id": "o-1"})
    saga_events = [e for e in runtime.bus.event_store if e.type.startswith("saga.")]
    assert saga_events and all(
        e.workflow == "OrderChoreography" and e.run_id == "o-1" for e in saga_events
    )


def test_successful_flow_completes_without_compensation(runtime):
    calls = []
    chor = order_flow(runtime, calls, shipping_fails=False)
    chor.emit("order.created", {"order_id": "o-2"})
    assert calls == ["reserve", "pay", "ship"]
    assert chor.instances["o-2"].status is SagaStatus.COMPLETED


def test_instances_are_kept_apart_by_correlation_id(runtime):
    calls = []
    chor = order_flow(runtime, calls, shipping_fails=False)
    chor.emit("order.created", {"order_id": "a"})
    chor.emit("order.created", {"order_id": "b"})
    assert {cid: i.status for cid, i in chor.instances.items()} == {
        "a": SagaStatus.COMPLETED, "b": SagaStatus.COMPLETED,
    }


def test_failure_event_compensates_the_instance(runtime):
    calls = []
    chor = order_flow(runtime, calls, shipping_fails=False)
    chor.fail_on("payment.declined")
    chor.on_event("cart.checked_out", lambda e: calls.append("checkout"), lambda e: calls.append("undo checkout"))
    chor.emit("cart.checked_out", {"order_id": "o-3"})
    chor.emit("payment.declined", {"order_id": "o-3", "reason": "card declined"})
    assert calls == ["checkout", "undo checkout"]
    assert chor.instances["o-3"].error == "card declined"


def test_failing_compensation_is_dead_lettered_and_the_rest_still_run(runtime):
    calls = []
    chor = order_flow(runtime, calls, refund_fails=True)
    chor.emit("order.created", {"order_id": "o-4"})
    assert calls[-2:] == ["refund pay-456", "release res-123"]
    instance = chor.instances["o-4"]
    assert instance.status is SagaStatus.COMPENSATION_FAILED
    assert instance.failed_compensations == ["inventory.reserved"]
    (letter,) = runtime.dlq.list(workflow="OrderChoreography")
    assert letter.event["type"] == "inventory.reserved.compensate"


def test_a_compensation_letter_names_the_instance_and_the_compensations_trace(runtime):
    spans = []
    runtime.bus.subscribe("span.finished", spans.append)
    order_flow(runtime, [], refund_fails=True).emit("order.created", {"order_id": "o-6"})
    (letter,) = runtime.dlq.list(workflow="OrderChoreography")
    [span] = [s for s in spans if s.data["name"] == "compensate:inventory.reserved"]
    assert letter.run_id == "o-6"
    assert (letter.trace_id, letter.span_id) == (span.data["trace_id"], span.data["span_id"])


def test_replaying_the_dead_letter_finishes_the_compensation(runtime):
    calls = []
    broken = {"refund": True}
    chor = order_flow(runtime, calls, refund_fails=broken)
    chor.emit("order.created", {"order_id": "o-5"})
    broken["refund"] = False
    (letter,) = runtime.dlq.list(workflow="OrderChoreography")
    assert runtime.dlq.replay(letter.id).status == "resolved"
    assert calls.count("refund pay-456") == 2
    assert chor.instances["o-5"].status is SagaStatus.COMPENSATED
    assert chor.instances["o-5"].failed_compensations == []


def test_event_without_correlation_id_is_reported(runtime):
    chor = order_flow(runtime, [])
    runtime.bus.publish(Event("order.created", {"id": 1}))
    errors = [e for e in runtime.bus.event_store if e.type == "handler.error"]
    assert "has no 'order_id'" in errors[0].data["error"]
    assert chor.instances == {}


def test_registering_an_event_twice_is_refused(runtime):
    chor = order_flow(runtime, [])
    with pytest.raises(ChoreographyError, match="registered twice"):
        chor.on_event("order.created", lambda e: None, lambda e: None)


def test_describe_lists_the_steps(runtime):
    chor = order_flow(runtime, [])
    assert chor.describe()["steps"] == ["order.created", "inventory.reserved", "payment.completed"]
