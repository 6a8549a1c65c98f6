"""Interval triggers: start a workflow's run every N seconds.

`IntervalScheduler` keeps, per workflow, its interval and the monotonic time
it is next due, read from the runtime's clock. `tick` fires whatever is due
and is all a test needs (with a `FakeClock`); `start` runs a thread that
ticks and waits on an `Event`, so `stop` returns at once. A workflow is
first due as soon as it is scheduled, so a freshly started engine shows
activity right away; a run that is fired skips the intervals it missed
rather than firing a burst to catch up.

``_lock`` guards ``_entries``; ``fire`` is called without it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ..background import BackgroundService
from ..clock import Clock

log = logging.getLogger("engine.schedule")


class IntervalScheduler(BackgroundService):
    """Calls ``fire(name)`` every ``interval`` seconds for each scheduled name."""

    thread_name = "flowconsole-schedule"

    def __init__(self, clock: Clock, fire: Callable[[str], None], *, max_wait: float = 0.25) -> None:
        self._clock = clock
        self._fire = fire
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, float]] = {}
        super().__init__()

    def set(self, name: str, interval: float) -> None:
        """Schedule ``name`` every ``interval`` seconds, first due now."""
        with self._lock:
            previous = self._entries.get(name)
            due = self._clock.monotonic() if previous is None else min(
                previous[1], self._clock.monotonic() + interval
            )
            self._entries[name] = (interval, due)

    def remove(self, name: str) -> None:
        """Stop scheduling ``name`` (no error if it was not scheduled)."""
        with self._lock:
            self._entries.pop(name, None)

    def scheduled(self) -> dict[str, float]:
        """Every scheduled name and its interval."""
        with self._lock:
            return {name: interval for name, (interval, _) in self._entries.items()}

    def tick(self) -> list[str]:
        """Fire every name that is due; returns them."""
        now = self._clock.monotonic()
        due: list[str] = []
        with self._lock:
            for name, (interval, at) in self._entries.items():
                if at <= now:
                    due.append(name)
                    missed = int((now - at) // interval)
                    self._entries[name] = (interval, at + (missed + 1) * interval)
        for name in due:
            if self._stop.is_set():
                break
            try:
                self._fire(name)
            except Exception:  # noqa: BLE001 - one bad trigger must not stop the others
                log.exception("scheduled run of %s failed to start", name)
        return due

    def _wait(self) -> float:
        now = self._clock.monotonic()
        with self._lock:
            soonest = min((at for _, at in self._entries.values()), default=now + self._max_wait)
        return min(max(soonest - now, 0.01), self._max_wait)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self._wait())
