"""The seed's event-driven order flow on the engine's bus.

A run publishes ``order.created``; the handlers hand the order on through
``payment.process``, ``payment.completed`` and ``shipping.start`` to
``order.completed``. Runs every 7 seconds; succeeds.
"""

import itertools

from engine import EventDrivenWorkflow, workflow

_orders = itertools.count(1)


@workflow(
    name="order_events",
    description="The seed's event-driven order flow: order.created -> payment -> shipping -> order.completed; succeeds",
    tags=["event_driven", "seed"],
    trigger={"every": "7s"},
    start_event="order.created",
)
def build(ctx):
    flow = EventDrivenWorkflow("order_events", bus=ctx.runtime.bus)

    @flow.on_event("order.created")
    def handle_order_created(event):
        order_id = event.data.get("order_id") or f"order-{next(_orders)}"
        flow.state["order_id"] = order_id
        flow.emit("payment.process", {"order_id": order_id})

    @flow.on_event("payment.process")
    def handle_payment(event):
        flow.emit("payment.completed", {"order_id": event.data["order_id"], "payment_id": "pay-123"})

    @flow.on_event("payment.completed")
    def handle_payment_completed(event):
        flow.emit("shipping.start", {"order_id": event.data["order_id"]})

    @flow.on_event("shipping.start")
    def handle_shipping(event):
        flow.emit("order.completed", {"order_id": event.data["order_id"]})

    @flow.on_event("order.completed")
    def handle_order_completed(event):
        flow.state["completed"] = flow.state.get("completed", 0) + 1

    return flow
