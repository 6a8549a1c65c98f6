"""Commands: operator intent written into the store, carried out by its owner.

A process that does not own the state directory (a CLI command, an attached
console) never changes the engine's state itself: it writes a command row (an
id, a kind, JSON arguments, the actor, a reason where the action needs one and
a deadline) and waits for its outcome. The owner claims each pending command
with one atomic ``UPDATE ... WHERE status = 'pending'``, carries it out
through its public API, and records the outcome.

A command's life: ``pending`` → ``accepted`` (claimed, committed before the
owner acts) → ``done`` (with a JSON result) or ``failed`` (with the error's
message); a pending command nobody claimed by its deadline ends ``expired``.
A command is carried out at most once: the claim is committed before the
action starts, a claim is refused past the deadline, and an owner that starts
on the directory marks every command a dead owner had accepted but not
finished ``failed`` (its outcome is unknown; it is never run again), and
every pending command past its deadline ``expired``.

`CommandBook` opens a short-lived connection of its own for every call (the
store's writer thread is not involved), so it is safe from any thread and any
process; SQLite serialises the writes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import StoreError
from .schema import DB_NAME, connect


class CommandStatus(StrEnum):
    """Where a command is in its life."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


FINAL = frozenset({CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.EXPIRED})


class CommandError(StoreError):
    """A command could not be written or read."""


@dataclass(frozen=True, slots=True)
class Command:
    """One command row."""

    id: str
    kind: str
    args: dict[str, Any]
    actor: str
    reason: str | None
    created: float
    deadline: float
    status: CommandStatus
    owner: str | None = None
    claimed: float | None = None
    finished: float | None = None
    result: Any = None
    error: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "args": self.args, "actor": self.actor,
            "reason": self.reason, "created": self.created, "deadline": self.deadline,
            "status": str(self.status), "owner": self.owner, "claimed": self.claimed,
            "finished": self.finished, "result": self.result, "error": self.error,
        }


_COLUMNS = "id, kind, args, actor, reason, created, deadline, status, owner, claimed, finished, result, error"


class CommandBook:
    """The commands table of one state directory (see the module docstring)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        if not self.path.is_file():
            raise CommandError(f"{self.state_dir}: no flowconsole state here (no {DB_NAME})", self.state_dir)
        try:
            conn = connect(self.path, "normal")
        except sqlite3.Error as exc:
            raise CommandError(f"{self.path}: cannot open the database: {exc}", self.path) from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            raise CommandError(f"{self.path}: commands table: {exc}", self.path) from exc
        finally:
            conn.close()

    def submit(
        self, kind: str, args: dict[str, Any], *, actor: str, reason: str | None, now: float, timeout: float
    ) -> Command:
        """Write a pending command that must be claimed within ``timeout`` seconds."""
        command = Command(
            id=uuid.uuid4().hex[:12], kind=kind, args=dict(args), actor=actor, reason=reason,
            created=now, deadline=now + timeout, status=CommandStatus.PENDING,
        )
        try:
            encoded = json.dumps(command.args)
        except (TypeError, ValueError) as exc:
            raise CommandError(f"command {kind}: arguments are not JSON: {exc}") from exc
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO commands (id, kind, args, actor, reason, created, deadline, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (command.id, kind, encoded, actor, reason, now, command.deadline),
            )
        return command

    def get(self, command_id: str) -> Command | None:
        """The command with ``command_id``, or None."""
        with self._conn() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM commands WHERE id = ?", (command_id,)).fetchone()
        if row is None:
            return None
        try:
            return _command(row)
        except (TypeError, ValueError):
            # A malformed row is still reported, with its outcome; only its arguments are lost.
            return _command((*row[:2], "{}", *row[3:11], None, row[12]))

    def wait(
        self,
        command_id: str,
        *,
        until: float,
        poll: float = 0.05,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Command:
        """The command once it has ended, or as it is at ``until`` (then not `final`)."""
        while True:
            command = self.get(command_id)
            if command is None:
                raise CommandError(f"command {command_id}: not in {self.path}", self.path)
            if command.final or clock() >= until:
                return command
            sleep(poll)

    def claim(self, owner: str, now: float, limit: int = 16) -> list[Command | str]:
        """Claim up to ``limit`` pending commands still within their deadline, oldest first.

        Returns each claimed `Command`; a row whose arguments do not decode
        is marked failed at once and returned as its id (a string).
        """
        claimed: list[Command | str] = []
        with self._conn() as conn:
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM commands WHERE status = 'pending' AND deadline > ? ORDER BY created LIMIT ?",
                (now, limit),
            )]
            for command_id in ids:
                won = conn.execute(
                    "UPDATE commands SET status = 'accepted', owner = ?, claimed = ? "
                    "WHERE id = ? AND status = 'pending' AND deadline > ?",
                    (owner, now, command_id, now),
                ).rowcount
                if not won:
                    continue
                row = conn.execute(f"SELECT {_COLUMNS} FROM commands WHERE id = ?", (command_id,)).fetchone()
                try:
                    claimed.append(_command(row))
                except (TypeError, ValueError) as exc:
                    self._finish(conn, command_id, CommandStatus.FAILED, None, f"malformed command row: {exc}", now)
                    claimed.append(command_id)
        return claimed

    def finish(self, command_id: str, *, now: float, result: Any = None, error: str | None = None) -> None:
        """Record the outcome of an accepted command: done with ``result``, or failed with ``error``."""
        status = CommandStatus.FAILED if error is not None else CommandStatus.DONE
        with self._conn() as conn:
            self._finish(conn, command_id, status, result, error, now)

    def forget(self, command_id: str) -> None:
        """Delete an ended command (a read whose answer has been taken)."""
        with self._conn() as conn:
            conn.execute("DELETE FROM commands WHERE id = ? AND status IN ('done', 'failed', 'expired')", (command_id,))

    def prune(self, before: float) -> int:
        """Delete commands that ended before ``before``; returns how many."""
        with self._conn() as conn:
            return conn.execute(
                "DELETE FROM commands WHERE status IN ('done', 'failed', 'expired') AND finished < ?", (before,)
            ).rowcount

    def settle_after_restart(self, now: float) -> tuple[int, int]:
        """At an owner's start: fail what a dead owner accepted, expire what is overdue.

        Returns (failed, expired).
        """
        with self._conn() as conn:
            failed = conn.execute(
                "UPDATE commands SET status = 'failed', finished = ?, "
                "error = 'the engine that accepted it stopped before it finished; its outcome is unknown' "
                "WHERE status = 'accepted'",
                (now,),
            ).rowcount
            expired = self._expire(conn, now)
        return failed, expired

    def expire(self, now: float) -> int:
        """Mark every pending command past its deadline expired; returns how many."""
        with self._conn() as conn:
            return self._expire(conn, now)

    @staticmethod
    def _expire(conn: sqlite3.Connection, now: float) -> int:
        return conn.execute(
            "UPDATE commands SET status = 'expired', finished = ?, "
            "error = 'no live engine claimed it before its deadline' "
            "WHERE status = 'pending' AND deadline <= ?",
            (now, now),
        ).rowcount

    @staticmethod
    def _finish(
        conn: sqlite3.Connection, command_id: str, status: CommandStatus, result: Any, error: str | None, now: float
    ) -> None:
        try:
            encoded = json.dumps(result)
        except (TypeError, ValueError):
            encoded = json.dumps(repr(result))
        conn.execute(
            "UPDATE commands SET status = ?, finished = ?, result = ?, error = ? "
            "WHERE id = ? AND status = 'accepted'",
            (str(status), now, encoded, error, command_id),
        )


def _command(row: tuple[Any, ...]) -> Command:
    (command_id, kind, args, actor, reason, created, deadline, status, owner, claimed, finished, result, error) = row
    decoded = json.loads(args)
    if not isinstance(decoded, dict):
        raise ValueError(f"arguments must be a JSON object, got {type(decoded).__name__}")
    return Command(
        id=command_id, kind=str(kind), args=decoded, actor=str(actor), reason=reason,
        created=float(created), deadline=float(deadline), status=CommandStatus(status), owner=owner,
        claimed=claimed, finished=finished, result=json.loads(result) if result is not None else None,
        error=error,
    )
