"""A small shop on schedules: every panel of the console has something live within seconds.

* ``shop_checkout`` (DAG, every 3s): receives an order, charges it through
  the ``shop-payments`` breaker (with retries) while reserving stock, then
  confirms it and publishes ``shop.order.paid``. Every 6th payment is
  declined on purpose: the task fails for good and lands in the dead-letter
  queue.
* ``shop_order_lifecycle`` (state machine): one instance per order,
  placed -> paid -> packed -> shipped -> delivered (or cancelled/refunded).
* ``shop_fulfilment`` (saga, started by every ``shop.order.paid`` event):
  pack, ship, deliver. Every 4th shipment's carrier fails on purpose and the
  saga compensates (the order is unpacked and refunded).
* ``shop_notifications`` (event-driven): reacts to paid and delivered
  orders with ``shop.email.sent``.
"""

import itertools
import uuid

from engine import DAGWorkflow, EventDrivenWorkflow, SagaOrchestrator, StateMachine, run_inputs, workflow

_orders = itertools.count(1)
_shipments = itertools.count(1)
_PREFIX = uuid.uuid4().hex[:4]


def _order(runtime, order_id: str):
    """The lifecycle instance of an order, in the current version of the machine."""
    return runtime.definitions.get("shop_order_lifecycle").definition.instance(order_id)


def has_address(ctx: dict) -> bool:
    return bool(ctx.get("address"))


@workflow(
    name="shop_order_lifecycle",
    description="One instance per shop order: placed -> paid -> packed -> shipped -> delivered, or cancelled/refunded",
    tags=["shop", "state_machine"],
)
def lifecycle():
    machine = StateMachine(
        "placed", name="shop_order_lifecycle", final_states=["delivered", "cancelled", "refunded"]
    )
    machine.add_transition("placed", "paid", "pay")
    machine.add_transition("placed", "cancelled", "cancel")
    machine.add_transition("paid", "packed", "pack")
    machine.add_transition("packed", "shipped", "ship", guard=has_address)
    machine.add_transition("shipped", "delivered", "deliver")
    machine.add_transition("paid", "refunded", "refund")
    machine.add_transition("packed", "paid", "unpack")
    return machine


def receive_order(runtime) -> dict:
    number = next(_orders)
    order_id = f"order-{_PREFIX}-{number}"
    machine = runtime.definitions.get("shop_order_lifecycle")
    machine.definition.create_instance(order_id, context={"address": "1 Main St", "number": number})
    runtime.clock.sleep(0.2)
    return {"order_id": order_id, "number": number, "total": 20 + number % 7 * 5}


def charge_payment(runtime, receive: dict, breaker) -> str:
    def charge() -> str:
        runtime.clock.sleep(0.3)
        if receive["number"] % 6 == 0:
            raise PermissionError(f"card declined for {receive['order_id']} (every 6th order, on purpose)")
        return f"pay-{receive['number']}"

    return breaker.call(charge)


def reserve_stock(clock, receive: dict) -> int:
    clock.sleep(0.4)
    return receive["number"] % 3 + 1


def confirm(runtime, receive: dict, charge: str, reserve: int) -> str:
    _order(runtime, receive["order_id"]).trigger("pay")
    runtime.bus.emit(
        "shop.order.paid", {"order_id": receive["order_id"], "payment": charge, "items": reserve},
        workflow="shop_checkout",
    )
    return receive["order_id"]


@workflow(
    name="shop_checkout",
    description="Every 3s: receive an order, charge it (breaker shop-payments, retries) and reserve stock, confirm; every 6th card is declined on purpose and dead-lettered",
    tags=["shop", "dag", "fails-on-purpose"],
    trigger={"every": "3s"},
    retry={"max_attempts": 2, "base_delay": 0.1},
    breakers=[{"name": "shop-payments", "failure_threshold": 3, "timeout": 5}],
)
def checkout(ctx):
    runtime, breaker = ctx.runtime, ctx.breaker("shop-payments")
    clock = runtime.clock
    dag = DAGWorkflow("shop_checkout")
    # local: these use the engine's state machines, bus or breaker, so they run
    # in the engine even when the tasks go to Dask; reserve needs only the clock.
    dag.add_task("receive", lambda: receive_order(runtime), local=True)
    dag.add_task(
        "charge", lambda receive: charge_payment(runtime, receive, breaker), depends_on=["receive"],
        retry=ctx.retry, local=True,
    )
    dag.add_task("reserve", lambda receive: reserve_stock(clock, receive), depends_on=["receive"])
    dag.add_task(
        "confirm", lambda receive, charge, reserve: confirm(runtime, receive, charge, reserve),
        depends_on=["receive", "charge", "reserve"], local=True,
    )
    return dag


def _order_id() -> str:
    """The order of this saga run: from the ``shop.order.paid`` event that started it."""
    return run_inputs()["event"]["data"]["order_id"]


def _steps(runtime):
    def pack():
        runtime.clock.sleep(0.3)
        _order(runtime, _order_id()).trigger("pack")

    def unpack_and_refund():
        order = _order(runtime, _order_id())
        order.trigger("unpack")
        order.trigger("refund")

    def ship():
        runtime.clock.sleep(0.3)
        if next(_shipments) % 4 == 0:
            raise TimeoutError(f"carrier did not answer for {_order_id()} (every 4th shipment, on purpose)")
        _order(runtime, _order_id()).trigger("ship")

    def cancel_label():
        runtime.clock.sleep(0.1)

    def deliver():
        runtime.clock.sleep(0.3)
        order_id = _order_id()
        _order(runtime, order_id).trigger("deliver")
        runtime.bus.emit("shop.order.delivered", {"order_id": order_id}, workflow="shop_fulfilment")

    def undeliver():
        _order(runtime, _order_id()).trigger("return")

    return (("pack", pack, unpack_and_refund), ("ship", ship, cancel_label), ("deliver", deliver, undeliver))


@workflow(
    name="shop_fulfilment",
    description="Started by each shop.order.paid: pack, ship, deliver; every 4th shipment fails on purpose and the saga unpacks and refunds",
    tags=["shop", "saga", "fails-on-purpose"],
    trigger={"on": "shop.order.paid"},
)
def fulfilment(ctx):
    saga = SagaOrchestrator("shop_fulfilment")
    for name, forward, compensate in _steps(ctx.runtime):
        saga.add_step(name, forward, compensate)
    return saga


@workflow(
    name="shop_notifications",
    description="Reacts to paid and delivered orders with shop.email.sent events",
    tags=["shop", "event_driven"],
)
def notifications(ctx):
    flow = EventDrivenWorkflow("shop_notifications", bus=ctx.runtime.bus)

    @flow.on_event("shop.order.paid")
    def paid(event):
        flow.emit("shop.email.sent", {"order_id": event.data["order_id"], "template": "receipt"})

    @flow.on_event("shop.order.delivered")
    def delivered(event):
        flow.emit("shop.email.sent", {"order_id": event.data["order_id"], "template": "delivered"})

    return flow
