"""Pilot tests: operator actions reach the engine off the UI thread; --readonly refuses them."""

from __future__ import annotations

import threading

from textual.command import CommandPalette

from engine import FakeClock

from console.app import FlowConsoleApp
from console.palette import FlowCommands
from console.widgets.dag_canvas import DagCanvas
from tests.console.conftest import T0, FakeEngine, command, quiet, recorded_session, wait_until

SIZE = (120, 36)


def make_app(engine: FakeEngine | None = None, **kwargs) -> FlowConsoleApp:
    return quiet(FlowConsoleApp(engine, clock=FakeClock(T0 + 15), recorded_events=recorded_session(), **kwargs))


async def _settle(app, pilot, engine: FakeEngine, calls: int | None = None) -> None:
    if calls is not None:
        await wait_until(pilot, lambda: len(engine.calls) >= calls)
    await app.workers.wait_for_complete()
    await pilot.pause(0.15)


async def test_r_runs_the_selected_workflow_and_its_events_come_back() -> None:
    engine = FakeEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await _settle(app, pilot, engine, calls=1)
        assert engine.calls == [("start_run", "etl")]
        await wait_until(pilot, lambda: app.query_one("#view-dag").run.run_id == "run-new-1")
        # The new run's events are drawn in the next frame.
        await wait_until(pilot, lambda: app.query_one(DagCanvas).status_of("extract") == "running")


async def test_commands_run_off_the_ui_thread() -> None:
    engine = FakeEngine()
    seen: list[str] = []
    start_run = engine.start_run

    def spy(name: str) -> str:
        seen.append(threading.current_thread().name)
        return start_run(name)

    engine.start_run = spy  # type: ignore[method-assign]
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await _settle(app, pilot, engine)
    assert seen and seen[0] != threading.main_thread().name


async def test_f_reruns_from_the_selected_task() -> None:
    engine = FakeEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DagCanvas).select("validate")
        await pilot.press("f")
        await _settle(app, pilot, engine, calls=1)
        assert engine.calls == [("rerun_from", "etl", "run-0002", "validate")]


async def test_x_cancels_the_running_run() -> None:
    engine = FakeEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")
        await _settle(app, pilot, engine, calls=1)
        assert engine.calls == [("cancel_run", "run-0002")]


async def test_command_line_run_and_reload_reach_the_engine() -> None:
    engine = FakeEngine()
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "run etl")
        await command(pilot, "reload")
        await _settle(app, pilot, engine, calls=2)
        assert sorted(engine.calls) == [("reload",), ("start_run", "etl")]


async def test_engine_failure_is_shown_not_raised() -> None:
    engine = FakeEngine()

    def broken(name: str) -> str:
        raise KeyError("no such workflow \x1b[2J")

    engine.start_run = broken  # type: ignore[method-assign]
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await _settle(app, pilot, engine)
        await wait_until(pilot, lambda: any("KeyError" in n.message for n in app._notifications))
        failures = [n for n in app._notifications if "KeyError" in n.message]
        assert failures and "KeyError" in failures[0].message
        assert "\x1b" not in failures[0].message


async def test_without_an_engine_actions_say_so() -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: any("no engine attached" in n.message for n in app._notifications))


async def test_readonly_refuses_every_changing_key() -> None:
    engine = FakeEngine()
    app = make_app(engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DagCanvas).select("validate")
        await pilot.press("r", "f", "x", "ctrl+r")
        await _settle(app, pilot, engine)
        assert engine.calls == []


async def test_readonly_hides_changing_bindings_from_footer_and_help() -> None:
    app = make_app(FakeEngine(), readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = {binding.action for _, binding, enabled, _ in app.screen.active_bindings.values() if enabled}
        assert not shown & {"run_workflow", "reload", "rerun_from", "cancel_run"}
        actions = {does for _, _, does in app.binding_rows()}
        assert not actions & {"Run workflow", "Reload files", "Rerun from task", "Cancel run"}


async def test_readonly_refuses_changing_commands_from_the_command_line() -> None:
    engine = FakeEngine()
    app = make_app(engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "run etl")
        await command(pilot, "reload")
        await wait_until(pilot, lambda: sum("read-only" in n.message for n in app._notifications) >= 2)
        await _settle(app, pilot, engine)
        assert engine.calls == []


async def test_readonly_is_shown_in_the_header() -> None:
    app = make_app(None, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in str(app.query_one("#header").render())


async def _palette_texts(app) -> list[str]:
    provider = FlowCommands(app.screen)
    return [hit.text async for hit in provider.discover()]


async def test_palette_offers_run_theme_reload_and_views() -> None:
    app = make_app(FakeEngine())
    async with app.run_test(size=SIZE):
        texts = await _palette_texts(app)
        assert "Run workflow: etl" in texts
        assert "Reload workflow files" in texts
        assert "Switch theme: flowconsole-light" in texts
        assert "Show view: Events (:events)" in texts


async def test_palette_leaves_out_changing_commands_when_readonly() -> None:
    app = make_app(FakeEngine(), readonly=True)
    async with app.run_test(size=SIZE):
        texts = await _palette_texts(app)
        assert not any(t.startswith(("Run workflow", "Reload")) for t in texts)
        assert "Switch theme: flowconsole-dark" in texts


async def test_ctrl_p_opens_the_command_palette() -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)


async def test_palette_search_hit_switches_theme() -> None:
    app = make_app(None)
    async with app.run_test(size=SIZE) as pilot:
        provider = FlowCommands(app.screen)
        hits = [hit async for hit in provider.search("theme light")]
        best = max(hits, key=lambda hit: hit.score)
        assert best.text == "Switch theme: flowconsole-light"
        best.command()
        await wait_until(pilot, lambda: app.theme == "flowconsole-light")
