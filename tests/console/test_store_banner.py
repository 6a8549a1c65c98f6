"""Pilot tests: the console says when the store cannot write, and how big the database is."""

from __future__ import annotations

from pathlib import Path

from textual.color import Color

from console.app import FlowConsoleApp
from console.widgets.store_banner import StoreBanner
from engine.host import Engine
from tests.console.conftest import quiet, wait_until
from tests.test_store_faults import FullDisk, _events

SIZE = (120, 36)
SAMPLES = Path(__file__).resolve().parents[2] / "sample_workflows"


async def test_a_store_that_cannot_write_shows_a_banner_in_the_error_colour_until_it_recovers(tmp_path) -> None:
    disk = FullDisk(tmp_path)
    app = quiet(FlowConsoleApp(bus=disk.runtime.bus))
    try:
        async with app.run_test(size=SIZE) as pilot:
            banner = app.query_one(StoreBanner)
            assert not banner.display
            disk.fill()
            for event in _events(300):
                disk.runtime.bus.publish(event)
            await wait_until(pilot, lambda: banner.display, timeout=20)
            assert "STORE CANNOT WRITE: database or disk is full" in str(banner.render())
            assert banner.styles.background == Color.parse(app.theme_variables["error"])
            # More failed retries change nothing: the banner stays, once.
            await pilot.pause(0.2)
            assert banner.display
            disk.free()
            await wait_until(pilot, lambda: not banner.display, timeout=20)
    finally:
        disk.close()


async def test_the_header_shows_the_database_size_of_the_engines_store(tmp_path) -> None:
    engine = Engine(SAMPLES, state_dir=tmp_path / "state", schedules=False, watch=False)
    app = quiet(FlowConsoleApp(engine, start_engine=True))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app._header.db_size is not None, timeout=20)
            line = str(app._header.render()).splitlines()[0]
            assert " db " in line and line.rstrip().endswith(("KB", "MB"))
    finally:
        app.wait_engine_started(10)
        engine.stop()
