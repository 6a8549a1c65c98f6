"""The attempt log: a task's attempt is on record before the task runs, cheaply.

The poison-task rule needs every attempt's start to survive a crash that the
attempt itself may cause. Waiting for a database commit before every task
would put a commit round trip on every task's path, so with durability
``normal`` the thread about to run the task appends one line to this
process's attempt file instead (one ``write`` system call: once it returns,
the line survives the process being killed, the same promise WAL with
synchronous=NORMAL makes). The ``task.started`` event still goes to the
journal through the writer as usual.

Each process writes its own file, ``attempts-<pid>-<nonce>.log``, and holds
an exclusive ``flock`` on it for as long as its store is open; the kernel
drops the lock when the process dies. A store being opened merges the files
it can lock (those of dead processes) into the journal, then deletes them.
The owner empties its file once every attempt in it is committed, and
deletes it on a clean close.

``_lock`` guards the bookkeeping (``_size``, ``_last_ticket``) and the
decision to truncate; the appends themselves happen outside it (see
`AttemptLog.record`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import uuid
from pathlib import Path

log = logging.getLogger("engine.store")

_PATTERN = "attempts-*.log"
_encode = json.JSONEncoder(separators=(",", ":")).encode
_TRUNCATE_AT = 1 << 20


class AttemptLog:
    """This process's attempt file (see the module docstring)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / f"attempts-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = threading.Lock()
        self._size = 0
        self._last_ticket = 0

    def record(self, workflow: str | None, run_id: str, task: str, attempt: int, ticket: int) -> None:
        """Put attempt ``attempt`` of ``task`` on record; ``ticket`` is its journal record's."""
        line = (_encode([workflow, run_id, task, attempt]) + "\n").encode()
        with self._lock:
            self._size += len(line)
            if ticket > self._last_ticket:
                self._last_ticket = ticket
        # Written outside the lock: the system call lets go of the GIL, and a
        # lock held across it makes every other worker queue behind it. Safe:
        # O_APPEND writes land whole at the end, and the file is emptied only
        # once ``ticket`` (noted above, before this write) is committed, when
        # the line is no longer needed.
        os.write(self._fd, line)

    def committed(self, ticket: int) -> None:
        """Every record up to ``ticket`` is committed: empty the file if it has grown."""
        if self._size < _TRUNCATE_AT:
            return
        with self._lock:
            if ticket >= self._last_ticket:
                os.ftruncate(self._fd, 0)
                self._size = 0

    def close(self, *, clean: bool) -> None:
        """Release the file; delete it when everything in it is committed (``clean``)."""
        if clean:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)


def merge_orphans(state_dir: Path, conn: sqlite3.Connection) -> int:
    """Fold the attempt files of dead processes into the journal; returns attempts merged.

    Runs before the writer starts, on the connection it will own.
    """
    orphans: list[tuple[Path, int]] = []
    starts: dict[tuple[str, str], int] = {}
    workflows: dict[str, str | None] = {}
    for path in sorted(state_dir.glob(_PATTERN)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # its process is alive and owns it
            continue
        orphans.append((path, fd))
        with open(fd, "rb", closefd=False) as handle:
            for raw in handle:
                try:
                    workflow, run_id, task, attempt = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by the crash: its task had not started
                workflows[run_id] = workflow
                key = (run_id, task)
                if attempt > starts.get(key, 0):
                    starts[key] = attempt
    if starts:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # The run's own start may not have been committed before the
            # crash: without it, the run could not be found and resumed.
            conn.executemany(
                "INSERT OR IGNORE INTO runs (run_id, workflow, kind, status) VALUES (?, ?, 'dag', 'running')",
                list(workflows.items()),
            )
            conn.executemany(
                "INSERT INTO tasks (run_id, task, status, attempts) VALUES (?, ?, 'running', ?) "
                "ON CONFLICT (run_id, task) DO UPDATE SET "
                "status = CASE WHEN attempts >= excluded.attempts THEN status ELSE 'running' END, "
                "attempts = max(attempts, excluded.attempts)",
                [(run_id, task, attempt) for (run_id, task), attempt in starts.items()],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            for _, fd in orphans:
                os.close(fd)
            raise
    for path, fd in orphans:
        path.unlink(missing_ok=True)
        os.close(fd)
    if starts:
        log.info("merged %d attempt start(s) from %d crashed process(es)", len(starts), len(orphans))
    return len(starts)
