"""Pilot tests: the console starts its engine beside the first frame and survives a failed start."""

from __future__ import annotations

from pathlib import Path

from console.app import FlowConsoleApp
from engine.host.engine import Engine
from tests.console.conftest import quiet, wait_until

SIZE = (120, 36)
SAMPLES = Path(__file__).resolve().parents[2] / "sample_workflows"


async def test_engine_started_by_the_console_loads_the_samples(tmp_path) -> None:
    engine = Engine(SAMPLES, state_dir=tmp_path / "state", schedules=False)
    app = quiet(FlowConsoleApp(engine, start_engine=True))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: len(app.workflow_names()) >= 8, timeout=20)
    finally:
        app.wait_engine_started(10)
        engine.stop()


async def test_engine_that_fails_to_start_is_reported_and_the_console_stays_up(tmp_path) -> None:
    not_a_directory = tmp_path / "state"
    not_a_directory.write_text("a file where the state directory should be")
    engine = Engine(SAMPLES, state_dir=not_a_directory, schedules=False)
    app = quiet(FlowConsoleApp(engine, start_engine=True))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot, lambda: any(n.title == "engine failed to start" for n in app._notifications), timeout=20
            )
            await pilot.press("8")
            assert app.current_view == "events"
    finally:
        app.wait_engine_started(10)
        engine.stop()
