"""Snapshots of the views in the dark and the light theme.

Fed with recorded events (fixed ids, seqs and times) and a FakeClock, with
animations off and no text cursor shown, at a fixed terminal size, so the
screens are deterministic. Regenerate with ``--snapshot-update`` and look at
the SVGs in ``__snapshots__/`` before committing them.
"""

from __future__ import annotations

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets.dag_canvas import DagCanvas
from console.widgets.event_rows import EventRows
from console.widgets.help_screen import HelpScreen
from tests.console.conftest import T0, quiet, recorded_session, wait_until

SIZE = (120, 36)
THEMES = ["flowconsole-dark", "flowconsole-light"]


def make_app(theme: str) -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 15), recorded_events=recorded_session(), theme=theme))


@pytest.mark.parametrize("theme", THEMES)
def test_dag_view_with_a_failed_task_selected(snap_compare, theme: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.query_one(DagCanvas).select("validate")
        await wait_until(pilot, lambda: "validate" in str(pilot.app.query_one("#dag-detail").render()))

    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", THEMES)
def test_events_view_with_an_event_selected(snap_compare, theme: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("8")
        await wait_until(pilot, lambda: isinstance(pilot.app.focused, EventRows))
        await pilot.press("up", "up")
        await wait_until(pilot, lambda: '"task": "enrich"' in pilot.app.query_one("#event-detail").text.plain)

    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", THEMES)
def test_sidebar_with_a_load_error_selected(snap_compare, theme: str) -> None:
    async def run_before(pilot) -> None:
        pilot.app.query_one("#workflow-list").focus()
        await wait_until(pilot, lambda: pilot.app.focused is pilot.app.query_one("#workflow-list"))
        await pilot.press("down", "down")
        await wait_until(pilot, lambda: "load failed" in str(pilot.app.query_one("#workflow-detail").render()))

    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(make_app("flowconsole-dark"), terminal_size=SIZE, run_before=run_before)
