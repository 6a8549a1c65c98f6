"""The single writer: one thread, a bounded queue, group commit, acknowledgements.

A record is a callable taking the connection, or an *entry* (anything not
callable) that the writer hands, with its neighbours, to its entry sink.

Records are submitted from any thread and get a *ticket*, a number that grows
by one per record. The writer thread takes everything queued at once, writes
it in one transaction and commits; every ticket up to the last one of the
batch is then acknowledged. A publisher that must know its record is durable
waits for its ticket (`wait`); `flush` waits for every ticket issued so far.
Many small records thus share one commit (group commit). When nobody waits
for a ticket, the writer lingers up to ``linger`` seconds after the first
record of a batch (or until ``linger_batch`` records are queued), so a
stream of events costs a few large transactions rather than one per event;
a caller of `wait` or `flush` ends the linger at once.

When the queue holds ``queue_size`` records, `submit` blocks until the writer
has taken them (backpressure): a record is never dropped. A batch that fails
is rolled back and written again one record at a time, each under a
savepoint, so one bad record is rejected (logged, and reported to whoever
waits for its ticket) without losing its neighbours.

A batch that fails because of the storage (a full disk, an I/O error, a file
made read-only: `is_storage_fault`) is no record's fault: the writer keeps
it and commits it again after a backoff (``retry_delay(n)`` seconds before
the n-th retry, waited with ``sleep`` when one is given), for as long as it
takes. Meanwhile records keep being queued up to ``queue_size`` (then
backpressure, as always), and `wait` and `flush` raise
`StoreUnavailableError` at once instead of waiting for space that may never
come; what they waited for stays queued and is committed once the storage
works again. ``on_fault(error)`` is called once when the storage fails,
``on_recovered(error, retries, seconds)`` once when a commit works again,
both on the writer thread. A store closed during a fault tries once more,
then gives up on what is queued (logged with the count).

Submitting takes no lock (a lock that every publisher and the writer take
turns on makes threads queue behind whichever of them lost the GIL while
holding it; that cost a context switch per record). A ticket comes from an
`itertools.count` and the ``(ticket, record)`` pair goes on a deque, both
atomic; two threads may append their pairs out of ticket order, so the
writer acknowledges the highest ticket below which every ticket is
committed (``_committed``, the frontier), keeping the few committed above a
gap in ``_ahead``. ``_cond`` guards ``_committed``, ``_ahead``,
``_rejected``, ``_closed``, ``_stopped``, ``_failure``, ``_fault``,
``_urgent`` and the writer's waiting/lingering flags; publishers take it only to wake the
writer, to wait for room or for a ticket. Only the writer thread touches its
connection.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections import OrderedDict, deque
from typing import Any, Callable

from ..clock import SYSTEM_CLOCK, Clock
from .errors import StoreClosedError, StoreUnavailableError, StoreWriteError

log = logging.getLogger("engine.store")

Record = Any  # a callable taking the connection, or an entry for the sink
EntrySink = Callable[[sqlite3.Connection, list[Any]], None]
_REJECTED_KEPT = 1_000

# SQLite's primary result codes that say the storage failed, not the record.
_STORAGE_CODES = frozenset({
    5,   # SQLITE_BUSY: another connection held the write lock past busy_timeout
    7,   # SQLITE_NOMEM
    8,   # SQLITE_READONLY
    10,  # SQLITE_IOERR
    11,  # SQLITE_CORRUPT
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
    26,  # SQLITE_NOTADB
})


def is_storage_fault(exc: BaseException) -> bool:
    """True if ``exc`` is SQLite saying the storage failed (full, I/O, read-only...)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in _STORAGE_CODES


def default_retry_delay(retry: int) -> float:
    """Seconds before the ``retry``-th commit of a batch the storage refused: 0.05 doubling to 5."""
    return min(5.0, 0.05 * 2 ** min(retry - 1, 10))


class Writer:
    """Owns the write connection and commits submitted records in batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        write_entries: EntrySink,
        *,
        queue_size: int = 10_000,
        after_commit: Callable[[sqlite3.Connection, int], None] | None = None,
        name: str = "flowconsole-store-writer",
        linger: float = 0.02,
        linger_batch: int = 4096,
        retry_delay: Callable[[int], float] = default_retry_delay,
        sleep: Callable[[float], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        on_fault: Callable[[BaseException], None] | None = None,
        on_recovered: Callable[[BaseException, int, float], None] | None = None,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.queue_size = queue_size
        self.backpressure_waits = 0
        self.batches = 0
        self._conn = conn
        self._write_entries = write_entries
        self._after_commit = after_commit
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[tuple[int, Record]] = deque()
        self._tickets = itertools.count(1)
        self._issued = 0
        self._committed = 0
        self._ahead: set[int] = set()
        self._stopped = False
        self._rejected: OrderedDict[int, StoreWriteError] = OrderedDict()
        self._closed = False
        self._failure: BaseException | None = None
        self._fault: BaseException | None = None
        self._retry_delay = retry_delay
        self._sleep = sleep
        self._clock = clock
        self._on_fault = on_fault
        self._on_recovered = on_recovered
        self._writer_waiting = False
        self._lingering = False
        self._urgent = 0
        self._linger = linger
        self._linger_batch = min(linger_batch, queue_size)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- submitting ----------------------------------------------------

    def submit(self, record: Record) -> int:
        """Queue one record; returns its ticket. Blocks while the queue is full."""
        if self._closed or self._failure is not None or len(self._queue) >= self.queue_size:
            self._admit()
        ticket = next(self._tickets)
        item = (ticket, record)
        self._queue.append(item)
        if ticket > self._issued:
            self._issued = ticket  # a hint for stats: a racing submit may leave it one short
        if self._writer_waiting or (self._lingering and len(self._queue) >= self._linger_batch):
            self._wake()
        if self._closed:
            self._withdraw_if_stopped(item)
        return ticket

    def _wake(self) -> None:
        """Wake the waiting or lingering writer; the flags are cleared so that
        only one publisher pays for the wake-up (many contending for
        ``_cond`` while the writer waits for the GIL made them queue)."""
        with self._cond:
            if self._writer_waiting or self._lingering:
                self._writer_waiting = self._lingering = False
                self._cond.notify_all()

    def _admit(self) -> None:
        """The slow path of `submit`: refuse when closed or failed, wait for room."""
        with self._cond:
            self._refuse_if_stopping()
            # The writer's own thread (a log handler that publishes, say) must
            # never wait for itself.
            if len(self._queue) >= self.queue_size and threading.current_thread() is not self._thread:
                self.backpressure_waits += 1
                while len(self._queue) >= self.queue_size and not self._closed and self._failure is None:
                    self._cond.notify_all()
                    self._cond.wait()
                self._refuse_if_stopping()

    def _refuse_if_stopping(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed; the record was not accepted")
        if self._failure is not None:
            raise StoreWriteError(f"the store's writer has stopped: {self._failure}", cause=self._failure)

    def _withdraw_if_stopped(self, item: tuple[int, Record]) -> None:
        """A record queued as the store closed: refuse it if the writer has already left."""
        with self._cond:
            if not self._stopped:
                return  # the writer drains the queue before it stops
            try:
                self._queue.remove(item)
            except ValueError:
                return
        raise StoreClosedError("the store closed; the record was not accepted")

    # -- acknowledgements ----------------------------------------------

    @property
    def pending(self) -> int:
        """How many records are queued and not yet taken by the writer."""
        return len(self._queue)

    @property
    def committed(self) -> int:
        """The highest acknowledged ticket."""
        return self._committed

    @property
    def issued(self) -> int:
        """The highest ticket handed out."""
        return self._issued

    @property
    def fault(self) -> BaseException | None:
        """The storage error that keeps the writer from committing now (None when it commits)."""
        return self._fault

    @property
    def failure(self) -> BaseException | None:
        """The error that stopped the writer for good (None while it runs)."""
        return self._failure

    def wait(self, ticket: int, timeout: float | None = None) -> bool:
        """Wait until ``ticket`` is committed; False on timeout.

        Raises `StoreWriteError` if that record was rejected or the writer stopped.
        """
        if threading.current_thread() is self._thread:
            return False
        with self._cond:
            done = self._wait_committed(ticket, timeout)
            rejected = self._rejected.get(ticket)
        if rejected is not None:
            raise rejected
        return done

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record submitted so far is committed; False on timeout.

        On the writer's own thread (a record's callable) it cannot wait for
        itself and returns False at once.
        """
        if threading.current_thread() is self._thread:
            return False
        try:
            # A marker queued now gets a ticket above every record submitted
            # so far; once it is acknowledged, so are they.
            ticket = self.submit(_mark)
        except (StoreClosedError, StoreWriteError):
            ticket = self._issued  # closing drains the queue; a failure is raised below
        with self._cond:
            return self._wait_committed(ticket, timeout)

    def _wait_committed(self, ticket: int, timeout: float | None) -> bool:
        """Wait (holding ``_cond``) until ``ticket`` is committed; ends any linger."""
        self._urgent += 1
        self._cond.notify_all()
        try:
            done = self._cond.wait_for(
                lambda: self._committed >= ticket or self._failure is not None or self._fault is not None,
                timeout,
            )
        finally:
            self._urgent -= 1
        if self._committed < ticket and self._failure is not None:
            raise StoreWriteError(
                f"the store's writer stopped before committing: {self._failure}",
                cause=self._failure,
            )
        if self._committed < ticket and self._fault is not None:
            raise StoreUnavailableError(
                f"not committed yet: the store cannot write ({self._fault}); the record stays "
                "queued and is committed when the store recovers",
                cause=self._fault,
            )
        return done

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, then stop the thread (the connection is closed too)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._conn.close()

    # -- the writer thread ---------------------------------------------

    def _run(self) -> None:
        cond = self._cond
        queue = self._queue
        while True:
            with cond:
                # Waiting is announced before the queue is checked, and a
                # publisher checks the flag after appending: one of the two
                # sees the other, so no record is left asleep in the queue.
                while True:
                    self._writer_waiting = True
                    if queue or self._closed:
                        break
                    cond.wait()
                self._writer_waiting = False
                if not queue:
                    self._stopped = True
                    return
                if not self._closed and not self._urgent and len(queue) < self._linger_batch:
                    self._lingering = True
                    cond.wait(self._linger)
                    self._lingering = False
                batch = [queue.popleft() for _ in range(len(queue))]
                cond.notify_all()
            try:
                rejected = self._commit_until_stored(batch)
            except BaseException as exc:  # noqa: BLE001 - reported to every waiter
                if is_storage_fault(exc):
                    log.error(
                        "store closed while it could not write (%s): %d record(s) not committed",
                        exc, len(batch) + len(queue),
                    )
                else:
                    log.exception("store writer stopped: commit failed")
                with cond:
                    self._failure = exc
                    self._stopped = True
                    cond.notify_all()
                return
            with cond:
                for ticket, error in rejected:
                    self._rejected[ticket] = error
                while len(self._rejected) > _REJECTED_KEPT:
                    self._rejected.popitem(last=False)
                self._acknowledge(batch)
                self.batches += 1
                cond.notify_all()
            if self._after_commit is not None:
                try:
                    self._after_commit(self._conn, len(batch))
                except Exception:  # noqa: BLE001 - maintenance failing must not stop the writer
                    log.exception("store maintenance after commit failed")

    def _acknowledge(self, batch: list[tuple[int, Record]]) -> None:
        """Move the frontier over every ticket now committed with no gap below it."""
        frontier = self._committed
        tickets = [ticket for ticket, _ in batch]
        if not self._ahead and min(tickets) == frontier + 1 and max(tickets) == frontier + len(tickets):
            # The usual batch: every ticket from the frontier on, none missing
            # (tickets are unique, so the range is full).
            self._committed = frontier + len(tickets)
            return
        ahead = self._ahead
        ahead.update(tickets)
        while frontier + 1 in ahead:
            frontier += 1
            ahead.discard(frontier)
        self._committed = frontier

    def _commit_until_stored(self, batch: list[tuple[int, Record]]) -> list[tuple[int, StoreWriteError]]:
        """Commit ``batch``, retrying with backoff while the storage refuses it."""
        retries = 0
        started = 0.0
        while True:
            try:
                rejected = self._commit(batch)
            except Exception as exc:
                if not is_storage_fault(exc) or self._closed:
                    raise
                retries += 1
                if retries == 1:
                    started = self._clock.monotonic()
                    self._fault_begins(exc, len(batch))
                self._pause(self._retry_delay(retries))
                continue
            if retries:
                self._fault_ends(retries, self._clock.monotonic() - started)
            return rejected

    def _fault_begins(self, exc: BaseException, held: int) -> None:
        log.error(
            "store cannot write (%s): %d record(s) kept queued, retrying until it can", exc, held + len(self._queue)
        )
        with self._cond:
            self._fault = exc
            self._cond.notify_all()
        self._tell(self._on_fault, exc)

    def _fault_ends(self, retries: int, seconds: float) -> None:
        with self._cond:
            exc, self._fault = self._fault, None
        log.warning("store writes again after %d retries (%.1f s): %s", retries, seconds, exc)
        if exc is not None:
            self._tell(self._on_recovered, exc, retries, seconds)

    @staticmethod
    def _tell(callback: Callable[..., None] | None, *args: Any) -> None:
        # A listener that fails must not stop the writer that keeps the records.
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - logged; the writer goes on retrying
            log.exception("store fault listener failed")

    def _pause(self, delay: float) -> None:
        """Wait before the next retry; a `close` ends the wait at once."""
        if self._sleep is not None:
            self._sleep(delay)
            return
        with self._cond:
            self._cond.wait_for(lambda: self._closed, delay)

    def _commit(self, batch: list[tuple[int, Record]]) -> list[tuple[int, StoreWriteError]]:
        try:
            self._transaction(lambda: self._write([record for _, record in batch]))
            return []
        except Exception as exc:  # noqa: BLE001 - any bad record: find it, keep the rest
            if is_storage_fault(exc):
                raise
            log.warning("store batch of %d failed (%s); writing one by one", len(batch), exc)
        rejected: list[tuple[int, StoreWriteError]] = []
        conn = self._conn

        def one_by_one() -> None:
            for ticket, record in batch:
                conn.execute("SAVEPOINT one")
                try:
                    self._write([record])
                except Exception as exc:  # noqa: BLE001 - rejected and reported, never fatal
                    if is_storage_fault(exc):
                        raise
                    conn.execute("ROLLBACK TO one")
                    log.error("store rejected %r: %s", record, exc)
                    rejected.append((ticket, StoreWriteError(f"record rejected: {exc}", record, exc)))
                conn.execute("RELEASE one")

        self._transaction(one_by_one)
        return rejected

    def _transaction(self, body: Callable[[], None]) -> None:
        """``body`` inside one transaction; rolled back on any error if SQLite has not done so."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            body()
            conn.execute("COMMIT")
        except BaseException:
            # After SQLITE_FULL (and some I/O errors) SQLite has already
            # rolled back: a ROLLBACK then raises and hides the cause.
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error as rollback_error:
                    log.warning("store rollback failed: %s", rollback_error)
            raise

    def _write(self, batch: list[Record]) -> None:
        conn = self._conn
        entries: list[Any] = []
        for record in batch:
            if not callable(record):
                entries.append(record)
                continue
            if entries:
                self._write_entries(conn, entries)
                entries = []
            record(conn)
        if entries:
            self._write_entries(conn, entries)


def _mark(conn: sqlite3.Connection) -> None:
    """A record that writes nothing: `Writer.flush` waits for its ticket."""
