"""What a state directory holds, read without opening the store for writing.

`read_status` is for a process that does not own the state directory (no
engine needs to run): it checks the file is ours (`StoreCorruptError`,
`StoreForeignError` otherwise), then reads it on a read-only connection,
so it never merges attempt files, migrates or writes anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import StoreCorruptError
from .owner import OwnerInfo, read_owner
from .schema import DB_NAME, _check_header, _check_identity, connect, database_size

_BREAKER_TYPES = ("breaker.opened", "breaker.half_opened", "breaker.closed", "breaker.forced")


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """A summary of one state directory.

    ``owner``: the live engine that owns the directory (None: no live owner).
    ``workflows``: workflows with journalled runs, instances or dead letters.
    ``dead_letters``: letters in status ``dead``. ``breakers_open``: breakers
    whose last recorded event left them open.
    """

    state_dir: str
    owner: OwnerInfo | None
    workflows: int
    runs_active: int
    dead_letters: int
    breakers_open: int
    db_size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_status(state_dir: Path) -> StoreStatus | None:
    """The status of the store in ``state_dir``; None when there is no database there."""
    path = state_dir / DB_NAME
    if not _check_header(path):
        return None
    try:
        conn = connect(path, "normal", readonly=True)
    except sqlite3.Error as exc:
        raise StoreCorruptError(f"{path}: cannot open the database: {exc}", path) from exc
    try:
        _check_identity(conn, path)
        return StoreStatus(
            state_dir=str(state_dir),
            owner=read_owner(state_dir),
            workflows=_one(conn,
                "SELECT count(*) FROM (SELECT workflow FROM runs UNION SELECT workflow FROM fsm_instances "
                "UNION SELECT workflow FROM dead_letters) WHERE workflow IS NOT NULL"),
            runs_active=_one(conn, "SELECT count(*) FROM runs WHERE status = 'running'"),
            dead_letters=_one(conn, "SELECT count(*) FROM dead_letters WHERE json_extract(body, '$.status') = 'dead'"),
            breakers_open=_breakers_open(conn),
            db_size_bytes=database_size(path),
        )
    except sqlite3.DatabaseError as exc:
        raise StoreCorruptError(f"{path}: the database is damaged: {exc}", path) from exc
    finally:
        conn.close()


def _one(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def _breakers_open(conn: sqlite3.Connection) -> int:
    marks = ",".join("?" * len(_BREAKER_TYPES))
    rows = conn.execute(
        f"SELECT type, json_extract(data, '$.state') FROM events WHERE seq IN ("
        f"SELECT max(seq) FROM events WHERE type IN ({marks}) GROUP BY json_extract(data, '$.breaker'))",
        _BREAKER_TYPES,
    ).fetchall()
    return sum(1 for kind, state in rows if kind == "breaker.opened" or (kind == "breaker.forced" and state == "open"))
