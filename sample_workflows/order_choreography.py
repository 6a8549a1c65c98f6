"""The seed's choreographed saga: services react to each other's events, no coordinator.

A run publishes ``chor.order.placed``. The inventory service reserves stock
and publishes ``chor.inventory.reserved``; the payment service charges and
publishes ``chor.payment.done``, which completes the saga. Every third
payment fails on purpose: the choreography then compensates through events
(``chor.order.placed.compensate`` releases the stock). Runs every 9 seconds.
"""

import itertools

from engine import SagaChoreography, workflow

_payments = itertools.count(1)


@workflow(
    name="order_choreography",
    description="Choreographed order saga: inventory then payment by events; every third payment fails on purpose and the stock is released",
    tags=["choreography", "seed", "fails-on-purpose"],
    trigger={"every": "9s"},
    start_event="chor.order.placed",
)
def build(ctx):
    saga = SagaChoreography("order_choreography", correlation_key="order_id", bus=ctx.runtime.bus)

    def reserve(event):
        ctx.runtime.clock.sleep(0.2)
        saga.emit("chor.inventory.reserved", {"order_id": event.data["order_id"], "sku": "sku-42"})

    def release(event):
        ctx.runtime.clock.sleep(0.1)

    def charge(event):
        ctx.runtime.clock.sleep(0.2)
        if next(_payments) % 3 == 0:
            raise RuntimeError(f"payment declined for {event.data['order_id']} (every third, on purpose)")
        saga.emit("chor.payment.done", {"order_id": event.data["order_id"]})

    def refund(event):
        ctx.runtime.clock.sleep(0.1)

    saga.on_event("chor.order.placed", reserve, release)
    saga.on_event("chor.inventory.reserved", charge, refund)
    saga.complete_on("chor.payment.done")
    return saga
