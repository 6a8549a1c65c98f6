"""Tally: a count threads add to without a lock."""

from __future__ import annotations

import threading

from engine.bus.tally import Tally


def test_a_tally_counts_every_add_from_every_thread() -> None:
    tally = Tally()

    def add_many() -> None:
        for _ in range(10_000):
            tally.add()

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tally.value() == 40_000


def test_reading_a_tally_does_not_change_it() -> None:
    tally = Tally()
    tally.add()
    assert [tally.value() for _ in range(3)] == [1, 1, 1]
    tally.add()
    assert tally.value() == 2
