"""The store when its storage fails: a full disk, a read-only file.

A full disk is made two ways: deterministically, with SQLite's
``max_page_count`` on the writer's own connection (the database then reports
SQLITE_FULL exactly as a full filesystem does), and for real, on a 4 MiB
tmpfs mounted by the test (it needs root, as CI has).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from engine import Event, Runtime
from engine.store import Store, StoreReadOnlyError, StoreUnavailableError
from tests.disk_helpers import fill, read_only, tmpfs

_NO_LIMIT = 1_073_741_823


class FullDisk:
    """A store whose database may grow only when allowed; retries are counted, not slept."""

    def __init__(self, tmp_path: Path, *, free_after: int | None = None) -> None:
        self.delays: list[float] = []
        self.free_after = free_after
        self.gate = threading.Event()
        self.conn: sqlite3.Connection | None = None
        self.store = Store.open(tmp_path / "state", sleep=self._sleep)
        self.runtime = Runtime()
        self.store.attach(self.runtime)
        self.seen: list[Event] = []
        self.recovered = threading.Event()
        self.runtime.bus.subscribe("store.*", self._on_store_event)

    def _on_store_event(self, event: Event) -> None:
        self.seen.append(event)
        if event.type == "store.recovered":
            self.recovered.set()

    def fill(self) -> None:
        """From now on the database cannot grow by a page."""

        def limit(conn: sqlite3.Connection) -> None:
            self.conn = conn
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")

        self.store.write(limit, wait=True)

    def free(self) -> None:
        """Let the database grow again (at the writer's next retry)."""
        self.free_after = len(self.delays)
        self.gate.set()

    def _sleep(self, delay: float) -> None:
        # On the writer thread, between two retries: the writer's connection is ours here.
        self.delays.append(delay)
        if self.free_after is None:
            self.gate.wait(30)
        if self.free_after is not None and len(self.delays) >= self.free_after and self.conn is not None:
            self.conn.execute(f"PRAGMA max_page_count = {_NO_LIMIT}")

    def wait_failed(self) -> None:
        for _ in range(3000):
            if self.store.failure is not None:
                return
            threading.Event().wait(0.01)
        raise AssertionError("the store never reported a failure")

    def close(self) -> None:
        self.free()
        self.store.close(10)
        self.runtime.bus.close()


def _events(n: int) -> list[Event]:
    return [Event("fill.tick", {"n": i, "pad": "x" * 400}) for i in range(n)]


def test_a_commit_refused_by_a_full_disk_is_retried_until_space_returns_and_nothing_is_lost(tmp_path):
    disk = FullDisk(tmp_path, free_after=5)
    try:
        disk.fill()
        for event in _events(300):
            disk.runtime.bus.publish(event)
        assert disk.recovered.wait(30)
        assert disk.store.flush(30)
        stored = [e.data["n"] for e in disk.store.events(type="fill.tick")]
        assert stored == list(range(300))
        assert disk.store.failure is None
        # Backoff: each retry waits at least as long as the one before.
        assert disk.delays == sorted(disk.delays) and disk.delays[0] > 0
    finally:
        disk.close()


def test_a_full_disk_is_reported_once_as_store_failed_and_once_as_store_recovered(tmp_path):
    disk = FullDisk(tmp_path, free_after=8)
    try:
        disk.fill()
        for event in _events(300):
            disk.runtime.bus.publish(event)
        assert disk.recovered.wait(30)
        assert [e.type for e in disk.seen] == ["store.failed", "store.recovered"]
        failed, recovered = disk.seen
        assert failed.data["error"] == "database or disk is full"
        assert failed.data["path"] == str(disk.store.path)
        assert recovered.data["retries"] >= 8
        # The announcements are in the log too, once the store could write them.
        assert disk.store.flush(30)
        assert [e.type for e in disk.store.events(type="store.failed")] == ["store.failed"]
    finally:
        disk.close()


def test_waiting_for_a_record_while_the_disk_is_full_raises_at_once_and_the_record_is_kept(tmp_path):
    disk = FullDisk(tmp_path)
    try:
        disk.fill()
        for event in _events(300):
            disk.store.append(event)
        disk.wait_failed()
        ticket = disk.store.append(Event("fill.last", {}))
        with pytest.raises(StoreUnavailableError, match="database or disk is full"):
            disk.store.wait(ticket, timeout=30)
        disk.free()
        assert disk.recovered.wait(30)
        assert disk.store.wait(ticket, timeout=30)
        assert len(disk.store.events(type="fill.last")) == 1
    finally:
        disk.close()


def test_a_dead_letter_that_cannot_be_committed_is_not_reported_as_added_and_is_kept(tmp_path):
    disk = FullDisk(tmp_path)
    try:
        disk.fill()
        for event in _events(300):
            disk.store.append(event)
        disk.wait_failed()
        added: list[Event] = []
        disk.runtime.bus.subscribe("dlq.added", added.append)
        with pytest.raises(StoreUnavailableError):
            disk.runtime.dlq.add(source="task", unit="t1", error=ValueError("boom"), workflow="wf")
        assert added == []
        disk.free()
        assert disk.recovered.wait(30)
        assert disk.store.flush(30)
        [letter] = disk.store.dead_letters.all()
        assert (letter.unit, letter.error) == ("t1", "boom")
    finally:
        disk.close()


def test_a_store_closed_while_the_disk_is_full_gives_up_and_says_so(tmp_path, caplog):
    disk = FullDisk(tmp_path)
    disk.fill()
    for event in _events(300):
        disk.store.append(event)
    disk.wait_failed()
    disk.gate.set()  # retries go on, the disk stays full
    disk.store.close(10)
    disk.runtime.bus.close()
    assert disk.store.failure is not None
    assert "record(s) not committed" in caplog.text
    assert "cannot rollback" not in caplog.text


# -- a real full disk ----------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    with tmpfs(tmp_path / "tiny") as mount:
        yield mount


def test_on_a_real_full_disk_the_store_survives_and_commits_everything_once_space_is_freed(tiny_disk):
    ballast = tiny_disk / "ballast"
    store = Store.open(tiny_disk / "state", sleep=lambda delay: threading.Event().wait(0.01))
    runtime = Runtime()
    store.attach(runtime)
    recovered = threading.Event()
    runtime.bus.subscribe("store.recovered", lambda event: recovered.set())
    try:
        fill(ballast)  # what the database left free
        for event in _events(2_000):
            runtime.bus.publish(event)
        for _ in range(3000):
            if store.failure is not None:
                break
            threading.Event().wait(0.01)
        assert "full" in str(store.failure)
        ballast.unlink()
        assert recovered.wait(30)
        assert store.flush(30)
        assert [e.data["n"] for e in store.events(type="fill.tick")] == list(range(2_000))
    finally:
        ballast.unlink(missing_ok=True)
        store.close(10)
        runtime.bus.close()


def test_opening_a_store_on_a_full_disk_says_there_is_no_space(tiny_disk):
    Store.open(tiny_disk / "state").close()
    fill(tiny_disk / "ballast")
    with pytest.raises(StoreUnavailableError, match="no space left"):
        Store.open(tiny_disk / "state")


# -- a read-only database file -------------------------------------------------


@pytest.fixture
def read_only_db(tmp_path):
    """A store whose database file is read-only in a writable directory."""
    state = tmp_path / "state"
    Store.open(state).close()
    with read_only(state / "flowconsole.db") as db:
        yield db


def test_a_read_only_database_file_is_refused_at_open_naming_the_file(read_only_db):
    with pytest.raises(StoreReadOnlyError, match="read-only") as caught:
        Store.open(read_only_db.parent)
    assert str(read_only_db) in str(caught.value)
    assert caught.value.path == read_only_db


_ATTEMPTS_ON_A_FULL_DISK = """
import sys
from pathlib import Path
from engine import Event, Runtime
from engine.store import Store
from tests.disk_helpers import fill

mount = Path(sys.argv[1])
runtime = Runtime()
store = Store.open(mount / "state").attach(runtime)
fill(mount / "ballast")
for i in range(2_000):  # attempt lines over many pages of the attempt file
    runtime.bus.publish(Event("task.started", {"task": f"task-{i}", "attempt": 1}, workflow="wf", run_id="run-1"))
print("RECORDED", flush=True)
"""


def test_attempt_starts_are_recorded_on_a_full_disk_without_killing_the_process(tiny_disk):
    # The attempt file is written through a memory map: a page of a sparse
    # file first touched on a full disk is a SIGBUS. Its blocks are allocated
    # when the store opens, so a full disk later cannot kill the process.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _ATTEMPTS_ON_A_FULL_DISK, str(tiny_disk)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0 and "RECORDED" in done.stdout, (done.returncode, done.stderr[-500:])


def test_a_fault_listener_that_raises_does_not_stop_the_writer(tmp_path):
    from engine.store.writer import Writer

    conn = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    retries: list[float] = []

    def sleep(delay: float) -> None:
        retries.append(delay)
        if len(retries) == 3:
            conn.execute(f"PRAGMA max_page_count = {_NO_LIMIT}")

    def broken_listener(*args: object) -> None:
        raise RuntimeError("listener bug")

    writer = Writer(
        conn, lambda c, rows: c.executemany("INSERT INTO t VALUES (?)", [(r,) for r in rows]),
        sleep=sleep, on_fault=broken_listener, on_recovered=broken_listener,
    )
    try:
        tickets = [writer.submit("x" * 500) for _ in range(300)]
        for _ in range(3000):
            if writer.committed >= tickets[-1]:
                break
            threading.Event().wait(0.01)
        assert writer.committed >= tickets[-1] and writer.failure is None
    finally:
        writer.close(10)
    check = sqlite3.connect(tmp_path / "w.db")
    assert check.execute("SELECT count(*) FROM t").fetchone()[0] == 300
