"""The sample workflows load, and each does what its description says, headless.

The samples simulate work on the engine's clock; these tests give the engine
a FakeClock, so nothing sleeps for real.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine import Engine, FakeClock, Runtime

SAMPLES = Path(__file__).resolve().parent.parent / "sample_workflows"


class Seen:
    def __init__(self, bus):
        self.events = []
        self._lock = threading.Lock()
        bus.subscribe("*", self._on)

    def _on(self, event):
        with self._lock:
            self.events.append(event)

    def of(self, kind, workflow=None):
        with self._lock:
            return [e for e in self.events if e.type == kind and (workflow is None or e.workflow == workflow)]


@pytest.fixture
def engine():
    engine = Engine(SAMPLES, runtime=Runtime(clock=FakeClock()), watch=False, schedules=False, check_timeout=None)
    engine.seen = Seen(engine.bus)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def real_engine():
    """Samples whose retries back off (a fraction of a second) on the real clock."""
    engine = Engine(SAMPLES, watch=False, schedules=False, check_timeout=None)
    engine.seen = Seen(engine.bus)
    engine.start()
    yield engine
    engine.stop()


def test_every_sample_loads(engine):
    assert engine.seen.of("workflow.load_failed") == []
    assert set(engine.workflow_names()) >= {
        "etl_pipeline", "deployment_pipeline", "deployment_release", "order_events",
        "order_saga_shipping_fails", "flaky_api_fails_sometimes", "shop_checkout",
        "shop_order_lifecycle", "shop_fulfilment", "shop_notifications", "pool_priority_jobs",
        "order_choreography",
    }


def test_samples_that_fail_on_purpose_say_so(engine):
    for name in ("order_saga_shipping_fails", "flaky_api_fails_sometimes", "shop_checkout", "shop_fulfilment",
                 "deployment_release", "order_choreography"):
        assert "on purpose" in engine.definition(name).meta.description, name


def test_scheduled_samples_keep_the_console_busy(engine):
    every = {d.name: d.meta.interval for d in engine.registry.definitions() if d.meta.interval}
    assert every and max(every.values()) <= 12
    assert engine.definition("shop_checkout").meta.interval <= 5


def test_etl_pipeline_saves_twice_then_notifies(engine):
    result = engine.run("etl_pipeline", timeout=30)
    assert result["notify"] == "saved 5 rows, cached 5"
    assert result["save_db"] == result["save_cache"] == 5


def test_deployment_release_reaches_production_and_every_third_release_fails(engine):
    assert engine.run("deployment_release", timeout=30) == {"release": "production"}
    assert engine.run("deployment_release", timeout=30) == {"release": "production"}
    with pytest.raises(Exception, match="tests failed"):
        engine.run("deployment_release", timeout=30)
    machine = engine.runtime.definitions.get("deployment_pipeline").definition
    assert machine.instance("release-3").current_state == "failed"
    assert machine.instance("release-1").current_state == "production"


def test_order_events_flow_completes_the_order(engine):
    engine.run("order_events", timeout=30)
    completed = engine.seen.of("order.completed", "order_events")
    assert len(completed) == 1 and completed[0].data["order_id"].startswith("order-")


def test_order_saga_fails_at_shipping_and_compensates_in_reverse(engine):
    with pytest.raises(Exception, match="create_shipment"):
        engine.run("order_saga_shipping_fails", timeout=30)
    compensated = [e.data["step"] for e in engine.seen.of("saga.compensation.completed", "order_saga_shipping_fails")]
    assert compensated == ["process_payment", "reserve_inventory"]
    assert engine.seen.of("saga.compensated", "order_saga_shipping_fails")


def test_flaky_api_retries_behind_its_breaker_and_dead_letters_failures(real_engine):
    engine = real_engine
    outcomes = []
    for _ in range(6):
        try:
            engine.run("flaky_api_fails_sometimes", timeout=30)
            outcomes.append(True)
        except Exception:  # noqa: BLE001 - failing is what this sample does
            outcomes.append(False)
    assert False in outcomes
    letters = engine.runtime.dlq.list(workflow="flaky_api_fails_sometimes")
    assert 1 <= len(letters) <= outcomes.count(False)
    assert {letter.unit for letter in letters} == {"call_api"}
    assert engine.seen.of("task.retrying", "flaky_api_fails_sometimes")
    assert "flaky-api" in [b.name for b in engine.runtime.breakers.all()]


def test_shop_checkout_pays_then_the_saga_delivers_and_notifies(engine):
    order_id = engine.run("shop_checkout", timeout=30)["confirm"]
    assert engine.wait_idle(30)
    machine = engine.runtime.definitions.get("shop_order_lifecycle").definition
    assert machine.instance(order_id).current_state == "delivered"
    assert engine.seen.of("saga.completed", "shop_fulfilment")
    templates = [e.data["template"] for e in engine.seen.of("shop.email.sent")]
    assert sorted(templates) == ["delivered", "receipt"]


def test_shop_declines_every_sixth_card_into_the_dead_letter_queue(real_engine):
    engine = real_engine
    failures = 0
    for _ in range(6):
        try:
            engine.run("shop_checkout", timeout=30)
        except Exception:  # noqa: BLE001 - the sixth order fails on purpose
            failures += 1
    assert engine.wait_idle(30)
    assert failures == 1
    [letter] = engine.runtime.dlq.list(workflow="shop_checkout")
    assert letter.unit == "charge" and letter.error_type == "PermissionError"


def test_shop_fulfilment_compensates_every_fourth_shipment(engine):
    for _ in range(5):
        try:
            engine.run("shop_checkout", timeout=30)
        except Exception:  # noqa: BLE001 - not what this test is about
            pass
        assert engine.wait_idle(30)
    assert len(engine.seen.of("saga.compensated", "shop_fulfilment")) == 1
    refunded = [e for e in engine.seen.of("fsm.transitioned", "shop_order_lifecycle") if e.data["to"] == "refunded"]
    assert len(refunded) == 1


def test_pool_jobs_square_twenty_numbers_on_four_workers(engine):
    assert engine.run("pool_priority_jobs", timeout=30) == [x ** 2 for x in range(20)]
    assert engine.seen.of("pool.started", "pool_priority_jobs")[0].data["workers"] == 4


def test_samples_cover_every_kind(engine):
    kinds = {d.kind for d in engine.registry.definitions()}
    assert kinds == {"dag", "state_machine", "event_driven", "saga", "choreography", "pool"}


def test_order_choreography_completes_and_every_third_payment_compensates(engine):
    runs = []
    for _ in range(3):
        runs.append(engine.start_run("order_choreography"))
        assert engine.wait_idle(30)
    completed = {e.run_id for e in engine.seen.of("saga.completed", "order_choreography")}
    compensated = {e.run_id for e in engine.seen.of("saga.compensated", "order_choreography")}
    assert (completed, compensated) == (set(runs[:2]), {runs[2]})
