"""Following the event log of a state directory from another process.

`EventTail` keeps one read-only connection and a cursor (the last ``seq`` it
handed out). `poll` first asks ``PRAGMA data_version``, which changes only
when another connection has committed, so an idle log costs one pragma a
poll; when it changed, it reads ``seq > cursor`` in bounded batches. Each
query runs in autocommit and is read to the end at once, so no read
transaction stays open between polls and the owner's WAL checkpoints are
never held back.

`opening_events` is what a viewer replays when it opens, so that it draws
current state rather than an empty screen: every ``workflow.*`` event since
the owner started (the sidebar's workflows), then the newest ``window``
events of any type, in log order.

Not thread-safe: one thread polls a tail.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..events import Event
from .event_log import query_events
from .schema import DB_NAME, connect

DEFAULT_WINDOW = 20_000
DEFAULT_BATCH = 5_000


class EventTail:
    """New events of one state directory's log, as they are committed."""

    def __init__(self, state_dir: str | Path, *, batch: int = DEFAULT_BATCH) -> None:
        self.path = Path(state_dir) / DB_NAME
        self.batch = batch
        self.cursor = 0
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path, "normal", readonly=True)
        return self._conn

    def opening_events(self, *, owner_started: float | None, window: int = DEFAULT_WINDOW) -> list[Event]:
        """What to replay on open (see the module docstring); moves the cursor to the newest event."""
        conn = self._connection()
        newest = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        first = max(1, newest - window + 1)
        recent = list(query_events(conn, from_seq=first))
        workflows = [] if owner_started is None else [
            event for event in query_events(conn, since=owner_started, type="workflow.*", until=None)
            if event.seq is not None and event.seq < first
        ]
        self.cursor = recent[-1].seq if recent else newest
        self._version = conn.execute("PRAGMA data_version").fetchone()[0]
        return workflows + recent

    def poll(self) -> list[Event]:
        """Events committed since the last poll, oldest first, at most ``batch`` of them."""
        conn = self._connection()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version:
            return []
        events = list(query_events(conn, from_seq=self.cursor + 1, limit=self.batch))
        if len(events) < self.batch:
            # Caught up: until the next commit, polls cost one pragma.
            self._version = version
        if events:
            self.cursor = events[-1].seq
        return events

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
