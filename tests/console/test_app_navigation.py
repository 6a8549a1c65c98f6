"""Pilot tests: views, the command line, the events filter and pause, node selection, help."""

from __future__ import annotations

from textual.widgets import ContentSwitcher, Input

from engine import Event, EventBus, FakeClock

from console.app import FlowConsoleApp
from console.widgets.command_line import CommandLine
from console.widgets.dag_canvas import DagCanvas
from console.widgets.event_rows import EventRows
from console.widgets.help_screen import HelpScreen
from tests.console.conftest import T0, command, quiet, recorded_session, type_into, wait_until

SIZE = (120, 36)


def make_app(**kwargs) -> FlowConsoleApp:
    kwargs.setdefault("clock", FakeClock(T0 + 15))
    kwargs.setdefault("recorded_events", recorded_session())
    return quiet(FlowConsoleApp(**kwargs))


async def test_starts_on_the_dag_view_with_the_first_workflow_selected() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_view == "dag"
        assert app.selected_workflow == "etl"
        assert isinstance(app.focused, DagCanvas)


async def test_number_key_switches_view_and_escape_goes_back() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8")
        assert app.current_view == "events"
        assert app.query_one(ContentSwitcher).current == "view-events"
        await pilot.press("escape")
        assert app.current_view == "dag"


async def test_command_line_alias_switches_view() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "events")
        assert app.current_view == "events"
        assert not app.query_one(CommandLine).has_class("open")


async def test_unknown_command_is_reported_not_run() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "bogus")
        await wait_until(pilot, lambda: any("unknown command" in n.message for n in app._notifications))
        assert app.current_view == "dag"


async def test_escape_closes_the_command_line() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", "e", "escape")
        assert not app.query_one(CommandLine).has_class("open")
        assert isinstance(app.focused, DagCanvas)


async def test_command_line_switches_theme() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, "theme flowconsole-light")
        assert app.theme == "flowconsole-light"


async def test_events_filter_shows_matching_rows_only() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8", "slash")
        await type_into(pilot, "#events-filter", "task.fail")
        state = app.view_states["events"]
        assert [e.type for e in state.rows] == ["task.failed"]
        assert not app.query_one("#events-filter", Input).has_class("open")
        assert isinstance(app.focused, EventRows)


async def test_bad_filter_is_reported_and_the_filter_stays_open() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8", "slash")
        await type_into(pilot, "#events-filter", "(oops")
        await wait_until(pilot, lambda: any("bad filter" in n.message for n in app._notifications))
        assert app.query_one("#events-filter", Input).has_class("open")


async def test_pause_holds_live_events_and_resume_shows_them() -> None:
    bus = EventBus()
    app = make_app(bus=bus)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8", "u")
        state = app.view_states["events"]
        shown = len(state.rows)
        bus.publish(Event("live.event", {"n": 1}))
        await wait_until(pilot, lambda: len(state.held) == 1)
        assert len(state.rows) == shown and state.paused
        await pilot.press("u")
        assert state.rows[-1].type == "live.event"


async def test_selecting_an_event_shows_its_full_data() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8", "home")
        await pilot.pause()
        detail = app.query_one("#event-detail").text.plain
        assert '"type": "workflow.loaded"' in detail


async def test_arrow_keys_select_tasks_and_show_their_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        canvas = app.query_one(DagCanvas)
        assert canvas.selected == "extract"
        await pilot.press("right")
        assert canvas.selected in {"validate", "enrich", "notify"}
        await pilot.press("down", "up")
        first = canvas.selected
        await pilot.pause()
        detail = str(app.query_one("#dag-detail").render())
        assert first in detail


async def test_failed_task_detail_shows_error_and_traceback() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        canvas = app.query_one(DagCanvas)
        canvas.select("validate")
        await pilot.pause()
        detail = str(app.query_one("#dag-detail").render())
        assert "ValueError: row 17: amount is negative" in detail
        assert "Traceback (most recent call last)" in detail
        assert "attempts  3" in detail


async def test_brackets_pick_an_earlier_run() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one("#view-dag")
        assert view.run.run_id == "run-0002"
        await pilot.press("left_square_bracket")
        assert view.run.run_id == "run-0001"
        await pilot.press("right_square_bracket")
        assert view.run.run_id == "run-0002" and view.pinned_run is None


async def test_selecting_a_workflow_in_the_sidebar_shows_its_detail() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#workflow-list").focus()
        await pilot.press("down", "down")
        assert app.selected_workflow == "broken"
        detail = str(app.query_one("#workflow-detail").render())
        assert "load failed: sample_workflows/broken.py:7" in detail
        assert "SyntaxError: invalid syntax" in detail


async def test_help_lists_every_binding_and_escape_closes_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows
        keys = {key for _, key, _ in rows}
        assert {"q", "?", ":", "1", "8", "f", "x", "/", "u", "r"} <= keys
        assert ("command line", ":events", "show the Events view") in rows
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits_with_exit_code_zero() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


async def test_live_events_reach_the_dag_view_through_the_bridge() -> None:
    bus = EventBus()
    app = make_app(bus=bus)
    async with app.run_test(size=SIZE) as pilot:
        bus.publish(Event("task.started", {"task": "load", "attempt": 1}, workflow="etl", run_id="run-0002"))
        await wait_until(pilot, lambda: app.query_one(DagCanvas).status_of("load") == "running")


async def test_reload_notification_says_what_changed() -> None:
    bus = EventBus()
    app = make_app(bus=bus)
    async with app.run_test(size=SIZE) as pilot:
        bus.publish(Event("workflow.reloaded", {"name": "etl", "kind": "dag", "spec": {"tasks": {"a": []}}, "changes": {"tasks_added": ["a"]}}))
        await wait_until(pilot, lambda: any("tasks_added: a" in n.message for n in app._notifications))


async def test_load_failure_notification_names_file_line_and_last_good() -> None:
    bus = EventBus()
    app = make_app(bus=bus)
    async with app.run_test(size=SIZE) as pilot:
        bus.publish(Event("workflow.load_failed", {"name": "etl", "file": "etl.py", "line": 9, "message": "NameError: x", "last_good_active": True}))
        expected = ("Load failed: etl.py:9", "NameError: x\nlast good version still active")
        await wait_until(pilot, lambda: expected in [(n.title, n.message) for n in app._notifications])


async def test_opens_on_the_first_dag_workflow_even_when_another_kind_loaded_first() -> None:
    from tests.console.conftest import ETL_TASKS, Recorder, workflow_loaded

    rec = Recorder()
    workflow_loaded(rec, "deploy", "state_machine", {"initial": "idle", "states": ["idle"], "transitions": []})
    workflow_loaded(rec, "etl", "dag", {"tasks": ETL_TASKS})
    app = make_app(recorded_events=rec.events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.workflow_names() == ["deploy", "etl"]
        assert app.selected_workflow == "etl"
