"""Interval triggers: start a workflow's run every N seconds.

`IntervalScheduler` keeps, per workflow, its interval and the monotonic time
it is next due, read from the runtime's clock. `tick` fires whatever is due
and is all a test needs (with a `FakeClock`); `start` runs a thread that
ticks and waits on an `Event`, so `stop` returns at once. A workflow is
first due as soon as it is scheduled, so a freshly started engine shows
activity right away; a run that is fired skips the intervals it missed
rather than firing a burst to catch up.

One schedule never stops the others: an error computing a schedule's next
due time drops that schedule, an error starting its run is kept for the next
tick; both go to ``on_error(name, exc)`` (or the log), and the thread keeps
ticking whatever a tick raises.

``_lock`` guards ``_entries``; ``fire`` and ``on_error`` are called without it.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from .background import BackgroundService
from ..clock import Clock

log = logging.getLogger("engine.schedule")


class IntervalScheduler(BackgroundService):
    """Calls ``fire(name)`` every ``interval`` seconds for each scheduled name."""

    thread_name = "flowconsole-schedule"

    def __init__(
        self,
        clock: Clock,
        fire: Callable[[str], None],
        *,
        max_wait: float = 0.25,
        on_error: Optional[Callable[[str, Exception], None]] = None,
    ) -> None:
        self._clock = clock
        self._fire = fire
        self._on_error = on_error
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
        broken: list[tuple[str, Exception]] = []
        with self._lock:
            for name, (interval, at) in list(self._entries.items()):
                if at > now:
                    continue
                try:
                    missed = int((now - at) // interval)
                    self._entries[name] = (interval, at + (missed + 1) * interval)
                except Exception as exc:  # noqa: BLE001 - one bad schedule must not stop the others
                    del self._entries[name]
                    broken.append((name, exc))
                    continue
                due.append(name)
        for name, exc in broken:
            self._report(name, exc, "its schedule is dropped")
        for name in due:
            if self._stop.is_set():
                break
            try:
                self._fire(name)
            except Exception as exc:  # noqa: BLE001 - one bad trigger must not stop the others
                self._report(name, exc, "the run did not start")
        return due

    def _report(self, name: str, exc: Exception, outcome: str) -> None:
        log.error("schedule of %s failed (%s): %s: %s", name, outcome, type(exc).__name__, exc)
        if self._on_error is None:
            return
        try:
            self._on_error(name, exc)
        except Exception:  # noqa: BLE001 - reporting must not end the schedule thread
            log.exception("reporting the schedule error of %s failed", name)

    def _wait(self) -> float:
        now = self._clock.monotonic()
        with self._lock:
            soonest = min((at for _, at in self._entries.values()), default=now + self._max_wait)
        return min(max(soonest - now, 0.01), self._max_wait)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                wait = self._wait()
            except Exception:  # noqa: BLE001 - the thread serves every other schedule
                log.exception("schedule tick failed")
                wait = self._max_wait
            self._stop.wait(wait)
