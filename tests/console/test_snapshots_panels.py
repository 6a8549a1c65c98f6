"""Snapshots of the panels in the dark and the light theme.

Fed with recorded events (fixed ids, seqs and times; breaker snapshots and
metric families as the console-only events the panels' pollers produce) and
a FakeClock, with animations off, no text cursor and a fixed terminal size,
so the screens are deterministic. Regenerate with ``--snapshot-update`` and
look at the SVGs in ``__snapshots__/`` before committing them.
"""

from __future__ import annotations

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets.row_table import RowTable
from tests.console.conftest import T0, quiet
from tests.console.recorded_panels import panel_session

SIZE = (120, 36)
THEMES = ["flowconsole-dark", "flowconsole-light"]


def make_app(theme: str) -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 60), recorded_events=panel_session(), theme=theme))


def showing(key: str, *more: str):
    async def run_before(pilot) -> None:
        await pilot.press(key, *more)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("theme", THEMES)
def test_fsm_panel_with_a_refused_guard(snap_compare, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=showing("2", "down"))


@pytest.mark.parametrize("theme", THEMES)
def test_saga_panel_with_a_run_stuck_in_compensation_failed(snap_compare, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=showing("3"))


@pytest.mark.parametrize("theme", THEMES)
def test_breaker_board_sorted_by_error_rate(snap_compare, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=showing("4"))


@pytest.mark.parametrize("theme", THEMES)
def test_dead_letters_grouped_with_a_marked_row(snap_compare, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=showing("5", "f", "up", "up", "space"))


@pytest.mark.parametrize("theme", THEMES)
def test_trace_waterfall_with_critical_path_and_span_detail(snap_compare, theme: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("6", "down")
        await pilot.pause()
        table = pilot.app.query_one("#trace-spans", RowTable)
        table.focus()
        table.move_cursor(row=3)
        await pilot.press("enter", "c")
        await pilot.pause()

    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", THEMES)
def test_metrics_panel_with_pool_load(snap_compare, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=SIZE, run_before=showing("7"))
