"""`Store`: the durable SQLite store one engine (or one CLI command) opens.

One database file in WAL mode under the state directory. Writes go through
one `Writer` thread (group commit, bounded queue, backpressure); reads open
their own connections, so a reader never waits for the writer.

Attached to a runtime (`attach`), the store subscribes to every event on the
bus with a synchronous handler that builds the event's log row and journal
entry (`_entry`, on the publishing thread, so no event is held in the queue)
and queues them; the writer appends the rows to the event log and updates the
journal (runs, task attempts, saga steps, state-machine instances) in its
transaction. The handler never waits, except under backpressure. One
exception: an attempt's start must be on record
before the task runs, so that attempts survive a crash and a task that kills
its process on every attempt still reaches its maximum attempts. For
``task.started`` the handler therefore appends the attempt to the process's
attempt log (`AttemptLog`, a copy into a memory map; durability ``normal``) or waits
for the commit (durability ``full``); a ``task.completed`` with a stored result
goes to the attempt log too, before the tasks that depend on it start. Events redelivered by a replay are not
stored again.

State-machine instances journalled before this session are read at
`attach` (``_earlier_machines``) and are what `recover` restores: a file
that builds a `StateMachine` announces its instance as created while it
loads, and that announcement must neither overwrite the journalled row of an
instance about to be restored nor make an instance created in this session
look restored. Until `recover` runs, ``fsm.instance_created`` of such an
instance is logged but leaves the journal alone.

When the storage refuses writes (a full disk, say) the writer keeps what is
queued and retries (see `engine.store.writer`); the store publishes
``store.failed`` once, with the cause, and ``store.recovered`` once the
writes go through again. `failure` is the cause meanwhile.

``_lock`` guards ``_runtime``, ``_subscription``, ``_closed`` and
``_compaction_waiters``. ``_earlier_machines`` is set by `attach` and
cleared by `recover`, each a single assignment read once per event.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from ..clock import SYSTEM_CLOCK, Clock
from ..events import Event
from . import event_log, journal
from .attempts import AttemptLog, merge_orphans
from .dlq_store import SQLiteDeadLetterStore
from .errors import StoreClosedError, StoreError
from .recovery import RecoveryReport, recover
from .retention import DEFAULT_RETENTION, Compactor, Retention
from .schema import Durability, check_state_dir, connect, database_size, open_database
from .writer import Writer

DEFAULT_STATE_DIR = Path(".flowconsole")


class Store:
    """The durable store; open it with `Store.open`."""

    def __init__(
        self,
        state_dir: Path,
        db_path: Path,
        conn: sqlite3.Connection,
        *,
        durability: Durability,
        queue_size: int,
        retention: Retention,
        clock: Clock,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.path = db_path
        self.durability = durability
        self.retention = retention
        self.clock = clock
        self._lock = threading.Lock()
        self._runtime: Any = None
        self._subscription: Callable[[Event], None] | None = None
        self._earlier_machines: dict[tuple[str, str], journal.FsmRecord] | None = None
        self._closed = False
        self._compaction_waiters: list[threading.Event] = []
        self._compactor = Compactor(retention, clock)
        self._attempts = AttemptLog(state_dir) if durability == "normal" else None
        self._writer = Writer(
            conn,
            self._write_events,
            queue_size=queue_size,
            after_commit=self._after_commit,
            sleep=sleep,
            clock=clock,
            on_fault=self._on_fault,
            on_recovered=self._on_recovered,
        )
        self.dead_letters = SQLiteDeadLetterStore(self)

    @classmethod
    def open(
        cls,
        path: str | Path = DEFAULT_STATE_DIR,
        *,
        durability: Durability = "normal",
        queue_size: int = 10_000,
        retention: Retention | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Store:
        """Open the store in state directory ``path``, creating it on first use.

        ``durability``: ``"normal"`` (WAL, synchronous=NORMAL: survives a process
        crash) or ``"full"`` (synchronous=FULL: survives power loss). Raises
        `StoreReadOnlyError`, `StoreCorruptError` or `StoreForeignError`,
        each naming the directory or file; an unusable file is never modified;
        ``retention`` defaults to `DEFAULT_RETENTION` (1,000,000 events or 7 days);
        `StoreUnavailableError` when the disk has no room left. ``sleep``
        waits between retries of a commit the storage refused (default: a
        wait that `close` ends early).
        """
        if durability not in ("normal", "full"):
            raise StoreError(f"durability must be 'normal' or 'full', got {durability!r}")
        if queue_size < 1:
            raise StoreError(f"queue_size must be at least 1, got {queue_size}")
        state_dir = Path(path)
        db_path = check_state_dir(state_dir)
        conn = open_database(db_path, durability)
        try:
            merge_orphans(state_dir, conn)
        except BaseException:
            conn.close()
            raise
        try:
            return cls(
                state_dir,
                db_path,
                conn,
                durability=durability,
                queue_size=queue_size,
                retention=retention or DEFAULT_RETENTION,
                clock=clock or SYSTEM_CLOCK,
                sleep=sleep,
            )
        except BaseException:
            conn.close()
            raise

    # -- writing ---------------------------------------------------------

    def append(self, event: Event, *, wait: bool = False) -> int:
        """Append ``event`` to the log (and the journal); returns its ticket.

        With ``wait`` the call returns only once the event is committed.
        """
        ticket = self._writer.submit(_entry(event))
        if wait:
            self._writer.wait(ticket)
        return ticket

    def write(self, fn: Callable[[sqlite3.Connection], Any], *, wait: bool = False) -> int:
        """Run ``fn(connection)`` inside the writer's next transaction; returns its ticket."""
        ticket = self._writer.submit(fn)
        if wait:
            self._writer.wait(ticket)
        return ticket

    def wait(self, ticket: int, timeout: float | None = None) -> bool:
        """Wait until the record with ``ticket`` is committed; False on timeout."""
        return self._writer.wait(ticket, timeout)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is committed; False on timeout."""
        return self._writer.flush(timeout)

    def compact(self, timeout: float | None = None) -> int:
        """Apply the retention now, on the writer thread; returns events deleted."""
        done = threading.Event()
        before = self._compactor.deleted
        with self._lock:
            self._compaction_waiters.append(done)
        self.write(_nothing)
        done.wait(timeout)
        return self._compactor.deleted - before

    def _write_events(self, conn: sqlite3.Connection, entries: list[tuple[Any, Any]]) -> None:
        event_log.append_rows(conn, [row for row, _ in entries])
        journal.apply(conn, [item for _, item in entries])

    def _after_commit(self, conn: sqlite3.Connection, written: int) -> None:
        # Compaction commits its own small transactions, so it runs here,
        # between batches, never inside one.
        if self._attempts is not None:
            self._attempts.committed(self._writer.committed)
        with self._lock:
            waiters, self._compaction_waiters = self._compaction_waiters, []
        if waiters:
            try:
                self._compactor.compact(conn)
            finally:
                for done in waiters:
                    done.set()
            return
        self._compactor.after_commit(conn, written, lambda: self._writer.pending > 0)

    @property
    def failure(self) -> BaseException | None:
        """Why the store cannot write now (None while it can)."""
        writer = self._writer
        return writer.fault or writer.failure

    def _on_fault(self, exc: BaseException) -> None:
        self._announce("store.failed", {
            "path": str(self.path), "error_type": type(exc).__name__, "error": str(exc),
            "pending": self._writer.pending,
        })

    def _on_recovered(self, exc: BaseException, retries: int, seconds: float) -> None:
        self._announce("store.recovered", {
            "path": str(self.path), "error": str(exc), "retries": retries, "down_for": seconds,
        })

    def _announce(self, event_type: str, data: dict[str, Any]) -> None:
        with self._lock:
            runtime = self._runtime
        if runtime is not None:
            runtime.bus.publish(Event(event_type, data))

    @property
    def stats(self) -> dict[str, int]:
        """Writer counters: queued, issued and committed tickets, batches, backpressure waits."""
        writer = self._writer
        return {
            "pending": writer.pending,
            "issued": writer.issued,
            "committed": writer.committed,
            "batches": writer.batches,
            "backpressure_waits": writer.backpressure_waits,
            "compacted": self._compactor.deleted,
        }

    # -- reading ---------------------------------------------------------

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for reading (closed when the block ends)."""
        conn = connect(self.path, self.durability, readonly=True)
        try:
            yield conn
        finally:
            conn.close()

    def events(
        self,
        *,
        from_seq: int | None = None,
        since: float | None = None,
        until: float | None = None,
        type: str | None = None,
        workflow: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Stored events in log order; each carries the log's ``seq`` and ``replay=True``."""
        with self.reader() as conn:
            return list(
                event_log.query_events(
                    conn,
                    from_seq=from_seq,
                    since=since,
                    until=until,
                    type=type,
                    workflow=workflow,
                    run_id=run_id,
                    limit=limit,
                )
            )

    def size_bytes(self) -> int:
        """The database's size on disk: the file and its write-ahead log."""
        return database_size(self.path)

    def last_seq(self) -> int:
        """The newest committed event's sequence number (0: empty log)."""
        with self.reader() as conn:
            return event_log.last_seq(conn)

    def replay(self, bus: Any, from_seq: int | None = None, since: float | None = None) -> int:
        """Publish stored events (from a sequence number or a time) into ``bus``; returns how many.

        Replayed events carry ``replay=True``: handlers can skip side effects,
        and the store does not store them again.
        """
        count = 0
        with self.reader() as conn:
            for event in event_log.query_events(conn, from_seq=from_seq, since=since):
                bus.publish(event)
                count += 1
        return count

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` verdict (``"ok"`` when sound)."""
        with self.reader() as conn:
            return "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))

    def runs(self, *, status: str | None = None, kind: str | None = None) -> list[journal.RunRecord]:
        """Journalled runs (DAG runs and sagas), optionally by status and kind."""
        with self.reader() as conn:
            return journal.runs(conn, status=status, kind=kind)

    def tasks(self, run_id: str) -> dict[str, journal.TaskRecord]:
        """The journal of one DAG run's tasks, by task id."""
        with self.reader() as conn:
            return journal.tasks(conn, run_id)

    def saga_steps(self, run_id: str) -> journal.SagaRecord:
        """Which steps of a saga run completed and which were compensated."""
        with self.reader() as conn:
            return journal.saga_record(conn, run_id)

    def fsm_instances(self, workflow: str | None = None) -> list[journal.FsmRecord]:
        """Journalled state-machine instances (state, context, history)."""
        with self.reader() as conn:
            return journal.fsm_instances(conn, workflow)

    # -- the runtime -----------------------------------------------------

    def attach(self, runtime: Any) -> Store:
        """Persist ``runtime``'s events and journals, and keep its dead letters here."""
        with self._lock:
            if self._closed:
                raise StoreClosedError("the store is closed", self.path)
            if self._runtime is not None:
                raise StoreError("the store is already attached to a runtime", self.path)
            self._runtime = runtime
            self._earlier_machines = {
                (record.workflow or "", record.instance_id): record
                for record in self.fsm_instances()
            }
            self._subscription = runtime.bus.subscribe("*", self._on_event)
        from .attach import plug_dead_letters

        plug_dead_letters(self, runtime)
        return self

    def detach(self) -> None:
        """Stop persisting the attached runtime's events (queued ones are still written)."""
        with self._lock:
            runtime, subscription = self._runtime, self._subscription
            self._runtime = self._subscription = None
        if runtime is not None and subscription is not None:
            runtime.bus.unsubscribe("*", subscription)

    def _on_event(self, event: Event) -> None:
        if event.replay:
            return
        entry = _entry(event)
        earlier = self._earlier_machines
        if earlier and event.type == "fsm.instance_created" and (
            (event.workflow or "", event.data.get("instance")) in earlier
        ):
            entry = (entry[0], None)
        ticket = self._writer.submit(entry)
        row, item = entry
        if type(item) is tuple:
            status = item[2]
            if status == "running":  # a task attempt's start
                attempts = self._attempts
                if attempts is None:
                    self._writer.wait(ticket)
                else:
                    attempts.record(row[3], item[0], item[1], item[3], ticket)
            elif status == "completed" and item[7] and self._attempts is not None:
                # Before the tasks that depend on it start (durability full:
                # their starts wait for a commit that includes this one).
                self._attempts.record_completion(row[3], item[0], item[1], item[3], item[6], ticket)

    def recover(
        self, runtime: Any, definitions: Any = None, *, saga_direction: str | None = None
    ) -> RecoveryReport:
        """Resume interrupted DAG runs and sagas, restore state machines.

        ``definitions`` (name -> definition; default ``runtime.definitions``)
        supplies the workflows to resume. ``saga_direction="backward"``
        compensates interrupted sagas instead of finishing them. State
        machines come back as journalled when the store was attached (or,
        unattached, as journalled now).
        """
        earlier, self._earlier_machines = self._earlier_machines, None
        return recover(
            self,
            runtime,
            definitions if definitions is not None else runtime.definitions,
            saga_direction=saga_direction,  # type: ignore[arg-type]
            machines=list(earlier.values()) if earlier is not None else None,
        )

    def close(self, timeout: float | None = None) -> None:
        """Detach, commit everything queued, and stop the writer. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.detach()
        self._writer.close(timeout)
        if self._attempts is not None:
            stats = self.stats
            self._attempts.close(clean=stats["committed"] >= stats["issued"])

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entry(event: Event) -> tuple[Any, Any]:
    """What the writer gets for ``event``: its log row and its journal entry."""
    return event_log.event_row(event), journal.entry(event)


def _nothing(conn: sqlite3.Connection) -> None:
    """A record that writes nothing: its commit marks a point in the queue."""
