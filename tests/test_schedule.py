"""The interval scheduler: one schedule's error never stops the others."""

from __future__ import annotations

import threading

from engine.bus import EventBus
from engine.clock import FakeClock
from engine.host.schedule import IntervalScheduler
from engine.host.triggers import Triggers


def test_a_schedule_whose_due_time_cannot_be_computed_is_dropped_and_reported():
    clock = FakeClock()
    fired, errors = [], []
    scheduler = IntervalScheduler(clock, fired.append, on_error=lambda name, exc: errors.append((name, exc)))
    scheduler.set("good", 1.0)
    scheduler.set("nan", float("nan"))
    clock.sleep(1.5)
    scheduler.tick()
    assert fired == ["good"]
    assert [name for name, _ in errors] == ["nan"]
    assert scheduler.scheduled() == {"good": 1.0}


def test_a_schedule_whose_run_fails_to_start_is_reported_and_stays_scheduled():
    clock = FakeClock()
    fired, errors = [], []

    def fire(name):
        if name == "bad":
            raise RuntimeError("no such workflow")
        fired.append(name)

    scheduler = IntervalScheduler(clock, fire, on_error=lambda name, exc: errors.append(name))
    scheduler.set("bad", 1.0)
    scheduler.set("good", 1.0)
    scheduler.tick()
    clock.sleep(1.0)
    scheduler.tick()
    assert fired == ["good", "good"]
    assert errors == ["bad", "bad"]
    assert set(scheduler.scheduled()) == {"bad", "good"}


def test_the_schedule_thread_survives_a_broken_schedule_and_keeps_firing_the_others():
    clock = FakeClock()
    good = threading.Event()
    scheduler = IntervalScheduler(clock, lambda name: good.set() if name == "good" else None, max_wait=0.01)
    scheduler.set("nan", float("nan"))
    scheduler.start()
    try:
        clock.sleep(1.0)
        scheduler.set("good", 1.0)
        assert good.wait(5)
        assert scheduler._thread is not None and scheduler._thread.is_alive()
    finally:
        scheduler.stop()


def test_a_broken_schedule_is_published_as_schedule_failed():
    bus = EventBus()
    clock = FakeClock()
    failed = []
    bus.subscribe("workflow.schedule_failed", failed.append)
    triggers = Triggers(bus, clock, lambda name, inputs, trigger: "run-1", lambda run_id: False)
    triggers.scheduler.set("broken", float("inf") * 0)
    clock.sleep(1.0)
    triggers.scheduler.tick()
    [event] = failed
    assert event.workflow == "broken"
    assert event.data["name"] == "broken"
    assert "ValueError" in event.data["error"]
    assert event.data["scheduled"] is False
