"""Retention: keep at most N events, or none older than an age, without stalling writers.

Compaction runs on the writer thread between batches, deleting at most
``chunk`` events per transaction, and stops as soon as new records are queued
(it resumes after the next commit). Publishers therefore never wait for a
compaction longer than one small delete. The newest event is always kept, so
sequence numbers are never reused, and so are the events of runs still
running (their journal says ``running``): what an unfinished run did stays
readable whatever its age. Dead letters live in a table of their own that
retention never touches.

`DEFAULT_RETENTION`, what a store keeps unless told otherwise: the newest
1,000,000 events, none older than 7 days, whichever limit comes first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import FlowError


class RetentionError(FlowError, ValueError):
    """A retention setting is out of range."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of the event log to keep, and the dead-letter queue's cap.

    ``max_events``: keep the newest N events. ``max_age``: drop events older
    than this many seconds. ``dlq_cap``: the dead-letter queue's capacity
    (the queue evicts past it). ``check_every``: records written between compactions;
    ``chunk``: events deleted per transaction. None means no limit.
    """

    max_events: int | None = None
    max_age: float | None = None
    dlq_cap: int | None = None
    check_every: int = 10_000
    chunk: int = 5_000

    def __post_init__(self) -> None:
        for name in ("max_events", "dlq_cap"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise RetentionError(f"retention {name} must be at least 1, got {value}")
        if self.max_age is not None and self.max_age <= 0:
            raise RetentionError(f"retention max_age must be positive seconds, got {self.max_age}")
        if self.check_every < 1 or self.chunk < 1:
            raise RetentionError(
                f"retention check_every and chunk must be at least 1, got {self.check_every}, {self.chunk}"
            )


DEFAULT_MAX_EVENTS = 1_000_000
DEFAULT_MAX_AGE = 7 * 86_400.0
DEFAULT_RETENTION = Retention(max_events=DEFAULT_MAX_EVENTS, max_age=DEFAULT_MAX_AGE)

# Events a compaction may delete: not those of a run still running.
_DELETABLE = "(run_id IS NULL OR run_id NOT IN (SELECT run_id FROM runs WHERE status = 'running'))"


class Compactor:
    """Applies a `Retention` on the writer thread; see the module docstring.

    Only the writer thread calls `after_commit` and `compact`, so the counters
    need no lock.
    """

    def __init__(self, retention: Retention, clock: Clock = SYSTEM_CLOCK) -> None:
        self.retention = retention
        self.clock = clock
        self.deleted = 0
        self._since_check = 0
        self._due = False

    def after_commit(self, conn: sqlite3.Connection, written: int, busy: Callable[[], bool]) -> None:
        """Count ``written`` records; compact when due and the queue is idle."""
        self._since_check += written
        if self._since_check >= self.retention.check_every:
            self._since_check = 0
            self._due = True
        if self._due:
            self._due = not self.compact(conn, busy)

    def compact(self, conn: sqlite3.Connection, busy: Callable[[], bool] = lambda: False) -> bool:
        """Delete what retention allows, chunk by chunk; True if nothing is left to delete."""
        while True:
            if self._delete_chunk(conn) == 0:
                return True
            if busy():
                return False

    def _delete_chunk(self, conn: sqlite3.Connection) -> int:
        last = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        if last == 0:
            return 0
        first = conn.execute(f"SELECT coalesce(min(seq), 0) FROM events WHERE {_DELETABLE}").fetchone()[0]
        if first == 0:
            return 0
        cutoff = last  # exclusive: the newest event always stays
        if self.retention.max_events is not None:
            cutoff = min(cutoff, last - self.retention.max_events + 1)
        if self.retention.max_age is not None:
            horizon = self.clock.time() - self.retention.max_age
            row = conn.execute(
                "SELECT seq FROM events WHERE ts >= ? ORDER BY ts LIMIT 1", (horizon,)
            ).fetchone()
            cutoff = min(cutoff, row[0] if row is not None else last)
        elif self.retention.max_events is None:
            return 0
        stop = min(cutoff, first + self.retention.chunk)
        if stop <= first:
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            count = conn.execute(f"DELETE FROM events WHERE seq < ? AND {_DELETABLE}", (stop,)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.deleted += count
        return count

