"""The durable store: file handling, group commit, backpressure, the event log, retention."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from engine import Event, EventBus, FakeClock, Runtime
from engine.store import (
    SCHEMA_VERSION,
    Retention,
    RetentionError,
    Store,
    StoreClosedError,
    StoreCorruptError,
    StoreForeignError,
    StoreReadOnlyError,
)
from engine.store.schema import APPLICATION_ID, DB_NAME

@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "state")
    yield opened
    opened.close()


def test_open_creates_state_dir_and_database_in_wal_mode(tmp_path):
    with Store.open(tmp_path / "a" / "b") as store:
        assert store.path == tmp_path / "a" / "b" / DB_NAME
        with store.reader() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_durability_full_sets_synchronous_full(tmp_path):
    with Store.open(tmp_path, durability="full") as store:
        assert store._writer._conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_unknown_durability_is_refused(tmp_path):
    with pytest.raises(Exception, match="durability"):
        Store.open(tmp_path, durability="fast")  # type: ignore[arg-type]


def test_reopening_keeps_committed_events(tmp_path):
    with Store.open(tmp_path) as store:
        store.append(Event("order.created", {"id": 1}), wait=True)
    with Store.open(tmp_path) as store:
        [event] = store.events()
        assert (event.type, dict(event.data), event.seq) == ("order.created", {"id": 1}, 1)


def test_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    db = tmp_path / DB_NAME
    db.write_bytes(b"this is not a database at all" * 100)
    before = db.read_bytes()
    with pytest.raises(StoreCorruptError, match=str(db)) as caught:
        Store.open(tmp_path)
    assert caught.value.path == db
    assert db.read_bytes() == before
    assert not (tmp_path / f"{DB_NAME}-wal").exists()


def test_damaged_sqlite_file_is_refused_and_left_untouched(tmp_path):
    with Store.open(tmp_path) as store:
        store.append(Event("x", {}), wait=True)
    db = tmp_path / DB_NAME
    data = bytearray(db.read_bytes())
    data[16:] = b"\xff" * (len(data) - 16)
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreCorruptError, match=DB_NAME):
        Store.open(tmp_path)
    assert db.read_bytes() == bytes(data)


def test_sqlite_database_of_another_application_is_refused(tmp_path):
    db = tmp_path / DB_NAME
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreForeignError, match="another application"):
        Store.open(tmp_path)
    assert db.read_bytes() == before


def test_database_from_a_newer_schema_is_refused(tmp_path):
    with Store.open(tmp_path):
        pass
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreForeignError, match="newer flowconsole"):
        Store.open(tmp_path)


def test_state_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "state"
    target.write_text("x")
    with pytest.raises(StoreReadOnlyError, match="not a directory"):
        Store.open(target)


def _make_read_only(path: Path) -> bool:
    """Make ``path`` unwritable even for root (immutable flag); False if impossible."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        return True
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    return done.returncode == 0


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o755)


def test_read_only_state_dir_is_refused_with_its_name(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    if not _make_read_only(state):
        pytest.skip("cannot make a directory read-only here")
    try:
        with pytest.raises(StoreReadOnlyError, match="read-only") as caught:
            Store.open(state)
        assert str(state) in str(caught.value)
        assert list(state.iterdir()) == []
    finally:
        _make_writable(state)


def test_read_only_state_dir_with_a_database_is_refused_and_kept(tmp_path):
    with Store.open(tmp_path / "state") as store:
        store.append(Event("e", {}), wait=True)
    state = tmp_path / "state"
    before = (state / DB_NAME).read_bytes()
    if not _make_read_only(state):
        pytest.skip("cannot make a directory read-only here")
    try:
        with pytest.raises(StoreReadOnlyError, match=str(state)):
            Store.open(state)
    finally:
        _make_writable(state)
    assert (state / DB_NAME).read_bytes() == before


def test_sequence_numbers_are_gap_free_across_batches_and_reopen(tmp_path):
    with Store.open(tmp_path) as store:
        for i in range(2_500):
            store.append(Event("e", {"i": i}))
        store.flush()
    with Store.open(tmp_path) as store:
        store.append(Event("e", {"i": 2_500}), wait=True)
        events = store.events()
    assert [e.seq for e in events] == list(range(1, 2_502))
    assert [e.data["i"] for e in events] == list(range(2_501))


def test_many_records_share_one_commit(store):
    blocker = threading.Event()
    store.write(lambda conn: blocker.wait(5))
    for i in range(500):
        store.append(Event("e", {"i": i}))
    blocker.set()
    store.flush()
    assert store.stats["batches"] <= 3
    assert store.last_seq() == 500


def test_append_with_wait_returns_only_once_committed(store):
    store.append(Event("e", {"n": 1}), wait=True)
    with sqlite3.connect(store.path) as other:
        assert other.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_flush_waits_for_everything_submitted(store):
    for i in range(1_000):
        store.append(Event("e", {"i": i}))
    assert store.flush(timeout=30)
    assert store.stats["committed"] == store.stats["issued"]
    assert store.last_seq() == 1_000


def test_full_queue_blocks_publisher_and_drops_nothing(tmp_path):
    with Store.open(tmp_path, queue_size=10) as store:
        gate = threading.Event()
        store.write(lambda conn: gate.wait(10))
        published = threading.Event()

        def publish_many():
            for i in range(30):
                store.append(Event("e", {"i": i}))
            published.set()

        thread = threading.Thread(target=publish_many)
        thread.start()
        # The writer is held inside its first batch: the publisher must stop
        # once ten records are queued.
        with store._writer._cond:
            store._writer._cond.wait_for(lambda: store.stats["backpressure_waits"] >= 1, 10)
        assert not published.is_set()
        assert store.stats["pending"] <= 10
        gate.set()
        thread.join(10)
        assert published.is_set()
        store.flush()
        assert [e.data["i"] for e in store.events()] == list(range(30))


def test_closed_store_refuses_records(tmp_path):
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(StoreClosedError):
        store.append(Event("e", {}))


def test_close_commits_what_is_queued(tmp_path):
    store = Store.open(tmp_path)
    for i in range(100):
        store.append(Event("e", {"i": i}))
    store.close()
    with Store.open(tmp_path) as again:
        assert again.last_seq() == 100


def test_bad_record_is_rejected_without_losing_its_neighbours(store):
    from engine.store import StoreWriteError

    store.append(Event("before", {}))
    bad = store.write(lambda conn: conn.execute("INSERT INTO no_such_table VALUES (1)"))
    store.append(Event("after", {}))
    with pytest.raises(StoreWriteError, match="no_such_table"):
        store.wait(bad)
    store.flush()
    assert [e.type for e in store.events()] == ["before", "after"]


def test_event_data_json_cannot_hold_is_stored_as_text(store):
    store.append(Event("e", {"value": {1, 2}.__class__.__name__, "obj": object()}), wait=True)
    [event] = store.events()
    assert event.data["value"] == "set"
    assert event.data["obj"].startswith("<object object")


def test_events_filter_by_type_prefix_workflow_run_and_time(store):
    store.append(Event("saga.started", {}, workflow="w", run_id="r1", ts=100.0))
    store.append(Event("saga.step.completed", {}, workflow="w", run_id="r1", ts=101.0))
    store.append(Event("task.started", {}, workflow="v", run_id="r2", ts=102.0))
    store.flush()
    assert [e.type for e in store.events(type="saga.*")] == ["saga.started", "saga.step.completed"]
    assert [e.run_id for e in store.events(workflow="v")] == ["r2"]
    assert [e.seq for e in store.events(run_id="r1")] == [1, 2]
    assert [e.seq for e in store.events(since=101.0)] == [2, 3]
    assert [e.seq for e in store.events(from_seq=3)] == [3]
    assert [e.seq for e in store.events(limit=2)] == [1, 2]


def test_stored_event_keeps_correlation_fields(store):
    original = Event("task.completed", {"task": "a"}, workflow="w", run_id="r", trace_id="t", span_id="s")
    store.append(original, wait=True)
    [event] = store.events()
    assert (event.id, event.workflow, event.run_id, event.trace_id, event.span_id, event.ts) == (
        original.id, "w", "r", "t", "s", original.ts,
    )
    assert event.replay


def test_attached_store_persists_every_bus_event(tmp_path, runtime):
    with Store.open(tmp_path) as store:
        store.attach(runtime)
        runtime.bus.publish(Event("order.created", {"id": 7}))
        store.flush()
        assert [e.type for e in store.events()] == ["order.created"]


def test_replay_publishes_stored_events_marked_as_replay(tmp_path):
    with Store.open(tmp_path) as store:
        for i in range(5):
            store.append(Event("order.created", {"i": i}, ts=1000.0 + i))
        store.flush()
        bus = EventBus()
        seen: list[Event] = []
        bus.subscribe("*", seen.append)
        assert store.replay(bus, from_seq=3) == 3
        assert [e.data["i"] for e in seen] == [2, 3, 4]
        assert all(e.replay for e in seen)
        seen.clear()
        assert store.replay(bus, since=1003.0) == 2


def test_replayed_events_are_not_stored_again(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    with Store.open(tmp_path) as store:
        store.attach(runtime)
        runtime.bus.publish(Event("a", {}))
        store.flush()
        store.replay(runtime.bus)
        store.flush()
        assert store.last_seq() == 1


def test_retention_keeps_the_newest_max_events(tmp_path):
    with Store.open(tmp_path, retention=Retention(max_events=100, chunk=30)) as store:
        for i in range(1_000):
            store.append(Event("e", {"i": i}))
        store.flush()
        assert store.compact() == 900
        events = store.events()
    assert [e.seq for e in events] == list(range(901, 1_001))


def test_retention_by_age_uses_the_store_clock(tmp_path):
    clock = FakeClock(start=10_000.0)
    with Store.open(tmp_path, retention=Retention(max_age=60), clock=clock) as store:
        for i in range(10):
            store.append(Event("e", {"i": i}, ts=9_900.0 + i * 10))
        store.flush()
        store.compact()
        assert [e.data["i"] for e in store.events()] == [4, 5, 6, 7, 8, 9]


def test_retention_always_keeps_the_newest_event_so_numbers_are_not_reused(tmp_path):
    clock = FakeClock(start=10_000.0)
    with Store.open(tmp_path, retention=Retention(max_age=1), clock=clock) as store:
        store.append(Event("old", {}, ts=1.0))
        store.append(Event("old", {}, ts=2.0))
        store.flush()
        store.compact()
        store.append(Event("new", {}), wait=True)
        assert [e.seq for e in store.events()] == [2, 3]


def test_retention_runs_automatically_every_check_every_records(tmp_path):
    retention = Retention(max_events=50, check_every=100, chunk=1_000)
    with Store.open(tmp_path, retention=retention) as store:
        for i in range(250):
            store.append(Event("e", {"i": i}), wait=(i % 10 == 9))
        store.flush()
        assert store.stats["compacted"] >= 150
        assert store.events()[-1].seq == 250


def test_compaction_does_not_hold_up_publishers(tmp_path):
    # Compaction runs on the writer thread in small chunks and yields to
    # queued records, so a publisher is never blocked by it (queue is large).
    retention = Retention(max_events=10, chunk=50)
    with Store.open(tmp_path, retention=retention, queue_size=100_000) as store:
        for i in range(5_000):
            store.append(Event("e", {"i": i}))
        store.flush()
        compacting = threading.Thread(target=store.compact)
        compacting.start()
        for i in range(1_000):
            store.append(Event("later", {"i": i}))
        compacting.join(30)
        store.flush()
        assert store.stats["backpressure_waits"] == 0
        assert store.events()[-1].data == {"i": 999}


def test_retention_rejects_nonsense_settings():
    with pytest.raises(RetentionError, match="max_events"):
        Retention(max_events=0)
    with pytest.raises(RetentionError, match="max_age"):
        Retention(max_age=-1)


def test_integrity_check_reports_ok(store):
    store.append(Event("e", {}), wait=True)
    assert store.integrity_check() == "ok"
