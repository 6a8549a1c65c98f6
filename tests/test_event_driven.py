"""Event-driven workflows: the seed's order example, unchanged."""

from __future__ import annotations

from engine import Event, EventBus, EventDrivenWorkflow


def test_seed_order_example_runs_unchanged(capsys) -> None:
    # --- the seed's usage example, verbatim ---
    workflow = EventDrivenWorkflow()

    @workflow.on_event("order.created")
    def handle_order_created(event: Event):
        print(f"Order created: {event.data['order_id']}")
        workflow.state["order_id"] = event.data["order_id"]
        workflow.emit("payment.process", {"order_id": event.data["order_id"]})

    @workflow.on_event("payment.process")
    def handle_payment(event: Event):
        print(f"Processing payment for order: {event.data['order_id']}")
        workflow.emit("payment.completed", {"order_id": event.data["order_id"], "payment_id": "pay-123"})

    @workflow.on_event("payment.completed")
    def handle_payment_completed(event: Event):
        print(f"Payment completed: {event.data['payment_id']}")
        workflow.emit("shipping.start", {"order_id": event.data["order_id"]})

    @workflow.on_event("shipping.start")
    def handle_shipping(event: Event):
        print(f"Shipping order: {event.data['order_id']}")
        workflow.emit("order.completed", {"order_id": event.data["order_id"]})

    @workflow.on_event("order.completed")
    def handle_order_completed(event: Event):
        print(f"Order completed: {event.data['order_id']}")

    workflow.emit("order.created", {"order_id": "order-456"})

    print("\nReplaying events:")
    workflow.event_bus.replay()
    # --- end of the seed's example ---

    out = capsys.readouterr().out.splitlines()
    first_pass = out[: out.index("Replaying events:")]
    assert [line for line in first_pass if line] == [
        "Order created: order-456",
        "Processing payment for order: order-456",
        "Payment completed: pay-123",
        "Shipping order: order-456",
        "Order completed: order-456",
    ]
    assert workflow.state == {"order_id": "order-456"}
    assert [e.type for e in workflow.event_bus.event_store] == [
        "order.created", "payment.process", "payment.completed", "shipping.start", "order.completed",
    ]


def test_emitted_events_carry_the_workflow_name() -> None:
    workflow = EventDrivenWorkflow(name="orders")
    assert workflow.emit("x", {}).workflow == "orders"


def test_a_shared_bus_sees_the_workflows_events() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("*", lambda e: seen.append(e.type))
    EventDrivenWorkflow(bus=bus).emit("order.created", {"order_id": "o"})
    assert seen == ["order.created"]


def test_detach_unsubscribes_every_handler() -> None:
    workflow = EventDrivenWorkflow()
    calls: list[Event] = []
    workflow.on_event("a")(calls.append)
    workflow.detach()
    workflow.emit("a", {})
    assert calls == []
