"""A count that many threads add to without taking a lock.

Every worker of a DAG run adds to a few counts per task (events stored,
spans kept). Guarding them with a lock made the workers queue on it: a
thread that lost the GIL while holding the lock stalled every other. A
`Tally` adds with ``next()`` on an `itertools.count`, one atomic C call.
Reading advances that count too, so `value` subtracts the reads made so
far; ``_lock`` (taken by readers only) guards ``_reads``.
"""

from __future__ import annotations

import itertools
import threading


class Tally:
    """A lock-free count: ``add()`` from any thread, `value` to read it."""

    __slots__ = ("add", "_count", "_reads", "_lock")

    def __init__(self) -> None:
        self._count = itertools.count()
        self.add = self._count.__next__
        self._reads = 0
        self._lock = threading.Lock()

    def value(self) -> int:
        """How many ``add()`` calls have returned so far."""
        with self._lock:
            value = next(self._count) - self._reads
            self._reads += 1
        return value
