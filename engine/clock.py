"""Clocks: the engine reads time and sleeps only through a `Clock`.

Tests of time (backoff, breaker timeouts, time in state) inject a `FakeClock`
and never sleep for real.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the engine needs of time."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for records shown to people)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations and timeouts)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    __slots__ = ()

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to; `sleep` advances it at once.

    Time is kept as seconds elapsed since ``start`` so that monotonic
    arithmetic stays exact at small magnitudes (an epoch-sized float loses
    sub-microsecond steps). ``_lock`` guards ``_elapsed`` and ``sleeps`` so
    several threads may read and advance the clock. ``sleeps`` records every
    requested sleep, for assertions.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._start = start
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def time(self) -> float:
        with self._lock:
            return self._start + self._elapsed

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._elapsed += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._elapsed += seconds


SYSTEM_CLOCK = SystemClock()
