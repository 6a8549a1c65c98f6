"""A breaker card shows what the breaker counts in its mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.host import Engine

from tests.console.live_panels import FILES, SIZE, make_live_app, screen_text, until


@pytest.fixture
def engine(tmp_path: Path):
    """A real engine on the panels' sample files (as live_panels' live_engine)."""
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    live = Engine(tmp_path, watch=False, schedules=False, check_timeout=None)
    yield live
    live.stop()


def _fail(breaker, times: int) -> None:
    def boom():
        raise OSError("down")

    for _ in range(times):
        try:
            breaker.call(boom)
        except OSError:
            pass


async def test_a_tripped_consecutive_breaker_shows_its_failures_in_a_row(engine):
    app = make_live_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        breaker = engine.runtime.breakers.get_or_create("pay-api", failure_threshold=3, timeout=30)
        _fail(breaker, 3)
        await pilot.press("4")
        await until(pilot, lambda: "3/3 consecutive failures" in screen_text(app))
        assert "window 0 calls" not in screen_text(app)


async def test_a_consecutive_breaker_counts_up_to_its_threshold(engine):
    app = make_live_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        breaker = engine.runtime.breakers.get_or_create("pay-api", failure_threshold=5, timeout=30)
        _fail(breaker, 2)
        await pilot.press("4")
        await until(pilot, lambda: "2/5 consecutive failures" in screen_text(app))


async def test_a_rate_breaker_still_shows_its_failure_rate_and_window(engine):
    app = make_live_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        breaker = engine.runtime.breakers.get_or_create(
            "shaky-api", failure_rate_threshold=90, sliding_window_size=10, minimum_calls=5, timeout=30)
        _fail(breaker, 1)
        await pilot.press("4")
        await until(pilot, lambda: "fail 100.0%  window 1 calls (min 5)" in screen_text(app))
        assert "consecutive" not in screen_text(app)
