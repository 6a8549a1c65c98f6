"""The fake clock never sleeps for real."""

from __future__ import annotations

import time

from engine import FakeClock


def test_fake_sleep_advances_time_without_waiting() -> None:
    clock = FakeClock()
    before, started = clock.monotonic(), time.monotonic()
    clock.sleep(3600)
    assert clock.monotonic() - before == 3600
    assert time.monotonic() - started < 1
    assert clock.sleeps == [3600]


def test_advance_moves_wall_and_monotonic_time_together() -> None:
    clock = FakeClock(start=100.0)
    clock.advance(5)
    assert (clock.time(), clock.monotonic()) == (105.0, 5.0)
