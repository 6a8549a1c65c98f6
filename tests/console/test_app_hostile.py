"""The hostile-string corpus shown in every view: no crash, no action
fired, no escape byte of the corpus in what would reach the terminal."""

from __future__ import annotations

import re

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets.dag_canvas import DagCanvas
from tests.console.conftest import T0, FakeEngine, Recorder, command, quiet
from tests.console.hostile import HOSTILE, HOSTILE_NAME

SIZE = (120, 36)
# What Textual itself writes: SGR colour codes and absolute cursor moves.
_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\x1b\[\d+H")
_FORBIDDEN_IN_FRAME = ["\x1b", "\x07", "\x9b", "\x9c", "\x9d", "\u202e", "\u2066", "\u200b", "\ufeff"]


def hostile_session() -> list:
    rec = Recorder()
    bad = " ".join(HOSTILE)
    tasks = {HOSTILE_NAME: [], "t[/]": [HOSTILE_NAME], "\x1b]0;x\x07": ["t[/]"]}
    rec.add(
        "workflow.loaded",
        {"name": HOSTILE_NAME, "kind": "dag", "file": bad, "line": 1, "description": bad, "tags": HOSTILE, "spec": {"tasks": tasks}},
        workflow=HOSTILE_NAME,
    )
    rec.add(
        "workflow.load_failed",
        {"name": "[@click=app.quit]", "file": "\x1b[2J.py", "line": 2, "message": bad, "traceback": "\n".join(HOSTILE), "last_good_active": False},
    )
    run = {"workflow": HOSTILE_NAME, "run_id": "run\x1b[2J[@click=app.quit]"}
    rec.add("run.started", {"tasks": tasks}, at=1, **run)
    rec.add("task.completed", {"task": HOSTILE_NAME, "attempt": 1, "duration": 0.1, "result_preview": bad}, at=2, **run)
    rec.add(
        "task.failed",
        {"task": "t[/]", "attempt": 2, "error_type": "[b]Err\x1b[0m", "error": bad, "traceback": "\n".join(HOSTILE)},
        at=3,
        **run,
    )
    for i, hostile in enumerate(HOSTILE):
        rec.add(f"custom.{i}", {"value": hostile, hostile: [hostile]}, at=4, **run)
    return rec.events


def frame_ansi(app: FlowConsoleApp) -> str:
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def assert_clean(app: FlowConsoleApp) -> None:
    ansi = _OWN_SEQUENCES.sub("", frame_ansi(app))
    leaked = [bad for bad in _FORBIDDEN_IN_FRAME if bad in ansi]
    assert not leaked, f"leaked to the terminal: {leaked!r}"
    assert app.is_running


def make_app(**kwargs) -> FlowConsoleApp:
    return quiet(FlowConsoleApp(FakeEngine(), clock=FakeClock(T0 + 10), recorded_events=hostile_session(), **kwargs))


@pytest.mark.parametrize("view", ["1", "8"])
async def test_hostile_strings_are_shown_safely_in_view(view: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(view)
        await pilot.pause()
        assert_clean(app)


async def test_hostile_task_detail_and_error_are_shown_safely() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(DagCanvas).select("t[/]")
        await pilot.pause()
        assert_clean(app)
        assert "[@click=app.quit]" in str(app.query_one("#dag-detail").render())


async def test_hostile_load_error_in_the_sidebar_is_shown_safely() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#workflow-list").focus()
        await pilot.press("down")
        await pilot.pause()
        assert_clean(app)


async def test_every_hostile_event_is_shown_safely_in_the_event_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8", "home")
        for _ in range(len(hostile_session())):
            await pilot.press("down")
            assert_clean(app)


async def test_clicking_hostile_markup_fires_no_action() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for x, y in [(2, 4), (10, 5), (40, 4), (80, 4), (100, 6), (20, 30), (60, 10)]:
            await pilot.click(offset=(x, y))
        await pilot.press("8")
        for x, y in [(5, 4), (50, 4), (100, 4), (100, 8)]:
            await pilot.click(offset=(x, y))
        await pilot.pause()
        assert app.is_running
        assert app.engine.calls == []


async def test_hostile_notifications_are_shown_safely() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "[@click=app.quit]")
        await pilot.pause()
        assert_clean(app)


async def test_hostile_names_are_safe_in_the_help_and_palette() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert_clean(app)
        await pilot.press("escape", "ctrl+p", *"Run")
        await pilot.pause(0.3)
        assert_clean(app)
