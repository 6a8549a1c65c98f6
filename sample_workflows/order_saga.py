"""The seed's order saga: the shipping step fails on purpose and the saga compensates.

Steps reserve_inventory -> process_payment -> create_shipment. The shipment
service is always unavailable, so every run fails at ``create_shipment`` and
compensates in reverse: refund_payment, then release_inventory. Runs every
12 seconds.
"""

from engine import SagaOrchestrator, current_runtime, workflow


def _work() -> None:
    # The saga runs its steps inside the engine's runtime, so this is the engine's clock.
    current_runtime().clock.sleep(0.3)


def reserve_inventory():
    _work()
    return {"reservation_id": "res-123"}


def release_inventory():
    _work()


def process_payment():
    _work()
    return {"payment_id": "pay-456"}


def refund_payment():
    _work()


def create_shipment():
    _work()
    raise RuntimeError("Shipment service unavailable (fails on purpose)")


def cancel_shipment():
    _work()


@workflow(
    name="order_saga_shipping_fails",
    description="Fails on purpose: create_shipment always raises, so the saga refunds the payment and releases the inventory",
    tags=["saga", "seed", "fails-on-purpose"],
    trigger={"every": "12s"},
)
def build():
    saga = SagaOrchestrator("order_saga_shipping_fails")
    saga.add_step("reserve_inventory", reserve_inventory, release_inventory)
    saga.add_step("process_payment", process_payment, refund_payment)
    saga.add_step("create_shipment", create_shipment, cancel_shipment)
    return saga
