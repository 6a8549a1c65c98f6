"""Dead letters in SQLite, behind the queue's four-call storage interface.

`SQLiteDeadLetterStore` meets `engine.resilience.dlq.letter.DeadLetterStore`: ``put``
and ``delete`` go through the store's writer and return only once committed
(a dead letter is acknowledged only when it is durable); ``get`` and ``all``
read the database, so a console and a CLI sharing one state directory see
each other's changes. A letter keeps its place (rowid) when it is replaced,
so ``all`` is in the order letters were first put. The queue's cap is
enforced by the queue itself (it evicts with a ``dlq.evicted`` event); the
store sets it from ``Retention.dlq_cap`` when it builds the queue.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..resilience.dlq.errors import DeadLetterNotFound
from ..resilience.dlq.letter import DeadLetter
from ..resilience.dlq.queue import check_filters
from .schema import connect

if TYPE_CHECKING:
    from .core import Store

_UPSERT = (
    "INSERT INTO dead_letters (id, created, workflow, source, error_type, body) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "workflow = excluded.workflow, source = excluded.source, "
    "error_type = excluded.error_type, body = excluded.body"
)


class SQLiteDeadLetterStore:
    """Dead letters persisted in the store's database (see the module docstring).

    Holds no state of its own beyond the store it writes through, so it needs
    no lock; the store's writer serialises writes.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, letter: DeadLetter) -> None:
        """Insert or replace ``letter``; returns once committed."""
        row = (
            letter.id,
            letter.first_failure,
            letter.workflow,
            letter.source,
            letter.error_type,
            json.dumps(letter.to_dict(), separators=(",", ":")),
        )

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT, row)

        self._store.write(write, wait=True)

    def get(self, letter_id: str) -> DeadLetter | None:
        """The letter with ``letter_id``, or None."""
        with self._store.reader() as conn:
            row = conn.execute("SELECT body FROM dead_letters WHERE id = ?", (letter_id,)).fetchone()
        return _letter(row[0]) if row else None

    def all(self) -> list[DeadLetter]:
        """Every letter, oldest first."""
        with self._store.reader() as conn:
            rows = conn.execute("SELECT body FROM dead_letters ORDER BY rowid").fetchall()
        return [_letter(body) for (body,) in rows]

    def delete(self, letter_id: str) -> None:
        """Forget ``letter_id``; returns once committed."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,))

        self._store.write(write, wait=True)

    def count(self) -> int:
        """How many letters are stored."""
        with self._store.reader() as conn:
            return conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]


class DeadLetterView:
    """The dead letters of a state directory, read-only: what a process that is not the owner may do.

    Reading through a `DeadLetterQueue` would settle interrupted retries
    (``retrying`` → ``dead``), which only the owner of the directory may do;
    this view never writes. Each call opens its own read-only connection.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = connect(self.path, "normal", readonly=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def get(self, letter_id: str) -> DeadLetter:
        """The letter with ``letter_id``; raises `DeadLetterNotFound`."""
        rows = self._rows("SELECT body FROM dead_letters WHERE id = ?", (letter_id,))
        if not rows:
            raise DeadLetterNotFound(letter_id)
        return _letter(rows[0][0])

    def list(self, **filters: Any) -> list[DeadLetter]:
        """Letters matching every given filter, oldest first (as `DeadLetterQueue.list`)."""
        wanted = check_filters(filters)
        letters = [_letter(body) for (body,) in self._rows("SELECT body FROM dead_letters ORDER BY rowid")]
        return [letter for letter in letters if all(getattr(letter, k) == v for k, v in wanted.items())]

    def count_matching(self, **filters: Any) -> int:
        return len(self.list(**filters))


def _letter(body: str) -> DeadLetter:
    data: dict[str, Any] = json.loads(body)
    return DeadLetter.from_dict(data)
