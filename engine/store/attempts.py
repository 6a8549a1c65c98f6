"""The attempt log: a task's attempt is on record before the task runs, cheaply.

The poison-task rule needs every attempt's start to survive a crash that the
attempt itself may cause. A task's completion (with its result) goes on
record the same way, before the tasks that depend on it start: otherwise a
crash could keep their starts and lose the completion, and the task would
run again and spend another attempt. Waiting for a database commit before every task
would put a commit round trip on every task's path, so with durability
``normal`` the thread about to run the task copies one line into this
process's attempt file instead, through a shared memory map: no system call,
and the GIL is never let go (a ``write`` per task did both, and four workers
then queued behind each other). Once the copy is made the line is in the
kernel's page cache and survives the process being killed: the promise WAL
with synchronous=NORMAL makes. The ``task.started`` event still goes to the
journal through the writer as usual.

Each process writes its own file, ``attempts-<pid>-<nonce>.log``, and holds
an exclusive ``flock`` on it for as long as its store is open; the kernel
drops the lock when the process dies. The file has a fixed size; the lines
are followed by zero bytes, which readers ignore. A store being opened
merges the files it can lock (those of dead processes) into the journal,
then deletes them. The owner zeroes its file once every attempt in it is
committed, and deletes it on a clean close.

``_lock`` guards the map, its capacity, the write offset and ``_last_ticket``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import sqlite3
import threading
import uuid
from pathlib import Path

from .errors import StoreUnavailableError
from .json_codec import compact_encoder

log = logging.getLogger("engine.store")

_PATTERN = "attempts-*.log"
_encode = compact_encoder(str)
_strict = compact_encoder(allow_nan=False)
_CAPACITY = 1 << 20


class AttemptLog:
    """This process's attempt file (see the module docstring)."""

    def __init__(self, state_dir: Path, capacity: int = _CAPACITY) -> None:
        self.path = state_dir / f"attempts-{os.getpid()}-{uuid.uuid4().hex[:8]}.log"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            _reserve(self._fd, capacity)
        except OSError as exc:
            os.close(self._fd)
            self.path.unlink(missing_ok=True)
            raise StoreUnavailableError(
                f"{state_dir}: no room for the attempt file ({exc.strerror})", state_dir, exc
            ) from exc
        self._map = mmap.mmap(self._fd, capacity)
        self._capacity = capacity
        self._lock = threading.Lock()
        self._offset = 0
        self._last_ticket = 0

    def record(self, workflow: str | None, run_id: str, task: str, attempt: int, ticket: int) -> None:
        """Put attempt ``attempt`` of ``task`` on record; ``ticket`` is its journal record's."""
        self._append((_encode([workflow, run_id, task, attempt]) + "\n").encode(), ticket)

    def _grow(self, needed: int) -> None:
        size = self._capacity
        while size < needed:
            size *= 2
        self._map.close()
        _reserve(self._fd, size)
        self._map = mmap.mmap(self._fd, size)
        self._capacity = size

    def record_completion(
        self, workflow: str | None, run_id: str, task: str, attempt: int, result: str, ticket: int
    ) -> None:
        """Put ``task``'s completion on record with its ``result`` (JSON text).

        Called on the thread that completes the task, before the run starts
        the tasks that depend on it: once their starts are on record, so is
        the completion they depend on, and a crash before the commit neither
        runs the task again nor counts its attempt twice.
        """
        self._append((_encode([workflow, run_id, task, attempt])[:-1] + "," + result + "]\n").encode(), ticket)

    def _append(self, line: bytes, ticket: int) -> None:
        size = len(line)
        # No call inside the lock but the copy: a thread made to give up the
        # GIL while holding it would stall every worker starting a task.
        with self._lock:
            start = self._offset
            end = start + size
            if end > self._capacity:
                self._grow(end)
            self._map[start:end] = line
            self._offset = end
            if ticket > self._last_ticket:
                self._last_ticket = ticket

    @property
    def recorded(self) -> bytes:
        """The lines on record (what a crash now would leave to merge)."""
        with self._lock:
            return self._map[:self._offset]

    def committed(self, ticket: int) -> None:
        """Every record up to ``ticket`` is committed: zero the file once half of it is used."""
        if self._offset < self._capacity // 2:
            return
        with self._lock:
            if ticket >= self._last_ticket:
                self._map[:self._offset] = bytes(self._offset)
                self._offset = 0

    def close(self, *, clean: bool) -> None:
        """Release the file; delete it when everything in it is committed (``clean``)."""
        if clean:
            self.path.unlink(missing_ok=True)
        with self._lock:
            self._map.close()
            os.close(self._fd)


def _reserve(fd: int, size: int) -> None:
    """Make the file ``size`` bytes, with its blocks allocated now.

    A page of a sparse file is allocated when it is first written through the
    map; on a full disk that write is a SIGBUS that kills the process.
    """
    os.ftruncate(fd, size)
    os.posix_fallocate(fd, 0, size)


def merge_orphans(state_dir: Path, conn: sqlite3.Connection) -> int:
    """Fold the attempt files of dead processes into the journal; returns attempts merged.

    Runs before the writer starts, on the connection it will own.
    """
    orphans: list[tuple[Path, int]] = []
    starts: dict[tuple[str, str], int] = {}
    completions: dict[tuple[str, str], tuple[int, str]] = {}
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
                raw = raw.strip(b"\0\n")
                if not raw:
                    continue  # the unused, zeroed end of the file
                try:
                    workflow, run_id, task, attempt, *result = json.loads(raw)
                except ValueError:
                    continue  # a line cut short by the crash: its task had not started (or ended)
                workflows[run_id] = workflow
                key = (run_id, task)
                if result:
                    completions[key] = (attempt, _strict(result[0]))
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
            conn.executemany(
                "UPDATE tasks SET status = 'completed', result = ?, has_result = 1 "
                "WHERE run_id = ? AND task = ? AND attempts = ? AND NOT (status = 'completed' AND has_result)",
                [(result, run_id, task, attempt) for (run_id, task), (attempt, result) in completions.items()],
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
        log.info(
            "merged %d attempt start(s) and %d completion(s) from %d crashed process(es)",
            len(starts), len(completions), len(orphans),
        )
    return len(starts)
