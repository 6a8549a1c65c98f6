"""The store's writer: lock-free submission, tickets acknowledged without gaps."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from engine import Event
from engine.store import Store, StoreClosedError
from engine.store.writer import Writer


def test_records_from_many_threads_are_all_written_and_acknowledged(tmp_path):
    with Store.open(tmp_path) as store:
        def publish(n: int) -> None:
            for i in range(2_000):
                store.append(Event("e", {"thread": n, "i": i}))

        threads = [threading.Thread(target=publish, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert store.flush(timeout=60)
        assert store.last_seq() == 16_000
        assert store.stats["committed"] >= store.stats["issued"]
        per_thread: dict[int, list[int]] = {}
        for event in store.events():
            per_thread.setdefault(event.data["thread"], []).append(event.data["i"])
        # Each thread's own records keep their order.
        assert all(order == list(range(2_000)) for order in per_thread.values())


def test_a_ticket_is_acknowledged_only_once_every_lower_one_is_committed():
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    writer = Writer(conn, lambda conn, events: None)
    try:
        with writer._cond:
            writer._acknowledge([(2, None), (3, None)])
            assert writer.committed == 0
            writer._acknowledge([(1, None)])
            assert writer.committed == 3
    finally:
        writer.close(5)


def test_flush_waits_for_records_queued_by_other_threads(tmp_path):
    with Store.open(tmp_path) as store:
        gate = threading.Event()
        store.write(lambda conn: gate.wait(10))
        for i in range(100):
            store.append(Event("e", {"i": i}))
        assert not store.flush(timeout=0.05)
        gate.set()
        assert store.flush(timeout=30)
        assert store.last_seq() == 100


def test_a_closed_writer_refuses_new_records(tmp_path):
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(StoreClosedError):
        store.write(lambda conn: None)


def test_the_writer_survives_maintenance_that_fails_after_a_commit():
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE TABLE t (x)")
    calls = []

    def maintenance(conn: sqlite3.Connection, count: int) -> None:
        calls.append(count)
        if len(calls) == 1:
            raise RuntimeError("retention exploded")

    writer = Writer(conn, lambda conn, entries: None, after_commit=maintenance)
    try:
        writer.wait(writer.submit(lambda conn: conn.execute("INSERT INTO t VALUES (1)")), 5)
        ticket = writer.submit(lambda conn: conn.execute("INSERT INTO t VALUES (2)"))
        assert writer.wait(ticket, 5)
        assert len(calls) == 2
    finally:
        writer.close(5)
