"""The triggers of loaded workflows: interval schedules and bus events.

`Triggers` starts runs through the ``start(name, inputs, trigger)`` callback
the engine gives it: on an interval (`IntervalScheduler`), publishing
``workflow.schedule_fired`` each time, and for every bus event matching an
``on`` pattern (the event, as a dict, is the run's ``inputs["event"]``),
publishing ``workflow.event_fired`` with the run's id, so a watcher that
never started the run can follow it to its end. An event published by the
workflow itself, or a replayed one, starts nothing.
A scheduled run still going when the next tick comes makes that tick skip.

``_lock`` guards ``_subscriptions`` and ``_scheduled``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..bus.event_bus import EventBus
from ..clock import Clock
from ..events import Event
from .schedule import IntervalScheduler
from .workflow_file import WorkflowMeta

StartRun = Callable[[str, "dict[str, Any] | None", str], str]


class Triggers:
    """Starts runs of workflows on their schedules and events."""

    def __init__(self, bus: EventBus, clock: Clock, start: StartRun, is_active: Callable[[str], bool]) -> None:
        self.bus = bus
        self.scheduler = IntervalScheduler(clock, self._fire, on_error=self._schedule_failed)
        self._start = start
        self._is_active = is_active
        self._lock = threading.Lock()
        self._subscriptions: dict[str, tuple[str, Callable[[Event], None]]] = {}
        self._scheduled: dict[str, str] = {}

    def set(self, name: str, meta: WorkflowMeta) -> None:
        """Replace the triggers of ``name`` with those ``meta`` declares."""
        self.clear(name)
        if meta.interval is not None:
            self.scheduler.set(name, meta.interval)
        elif meta.event_pattern is not None:
            pattern = meta.event_pattern

            def on_event(event: Event) -> None:
                if event.workflow != name and not event.replay:
                    run_id = self._start(name, {"event": event.to_dict()}, "event")
                    self.bus.publish(Event(
                        "workflow.event_fired",
                        {"name": name, "pattern": pattern, "event": event.type, "event_id": event.id, "run_id": run_id},
                        workflow=name, run_id=run_id,
                    ))

            self.bus.subscribe(pattern, on_event)
            with self._lock:
                self._subscriptions[name] = (pattern, on_event)

    def clear(self, name: str) -> None:
        """Remove every trigger of ``name``."""
        self.scheduler.remove(name)
        with self._lock:
            subscription = self._subscriptions.pop(name, None)
        if subscription is not None:
            self.bus.unsubscribe(*subscription)

    def run_finished(self, name: str, run_id: str) -> None:
        """Note that a run ended, so the next tick of ``name`` may start one."""
        with self._lock:
            if self._scheduled.get(name) == run_id:
                del self._scheduled[name]

    def start(self) -> None:
        """Start the schedule thread."""
        self.scheduler.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the schedules and unsubscribe every event trigger."""
        self.scheduler.stop(timeout)
        with self._lock:
            subscriptions, self._subscriptions = self._subscriptions, {}
        for pattern, handler in subscriptions.values():
            self.bus.unsubscribe(pattern, handler)

    def _schedule_failed(self, name: str, exc: Exception) -> None:
        self.bus.publish(Event(
            "workflow.schedule_failed",
            {
                "name": name,
                "error": f"{type(exc).__name__}: {exc}",
                "scheduled": name in self.scheduler.scheduled(),
            },
            workflow=name,
        ))

    def _fire(self, name: str) -> None:
        interval = self.scheduler.scheduled().get(name)
        with self._lock:
            previous = self._scheduled.get(name)
        if previous is not None:
            self.bus.publish(Event(
                "workflow.schedule_fired",
                {"name": name, "interval": interval, "run_id": None, "skipped": f"run {previous} is still running"},
                workflow=name,
            ))
            return
        run_id = self._start(name, None, "schedule")
        with self._lock:
            if self._is_active(run_id):
                self._scheduled[name] = run_id
        self.bus.publish(Event(
            "workflow.schedule_fired", {"name": name, "interval": interval, "run_id": run_id},
            workflow=name, run_id=run_id,
        ))
