"""The hostile-string corpus in every panel: names, payloads, errors,
event data and attributes drawn through the safe display never crash the
app, bind an action or emit an escape byte."""

from __future__ import annotations

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets.row_table import RowTable
from tests.console.conftest import T0, quiet
from tests.console.hostile import FORBIDDEN, HOSTILE
from tests.console.recorded_panels import panel_session
from tests.console.live_panels import click_actions, screen_text, static_text

PANELS = [("2", "fsm"), ("3", "saga"), ("4", "cb"), ("5", "dlq"), ("6", "trace"), ("7", "metrics")]
ODD = "".join(HOSTILE)


def hostile_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 60), recorded_events=panel_session(ODD)))


def assert_clean(app: FlowConsoleApp, where: str) -> None:
    shown = screen_text(app)
    assert not [bad for bad in FORBIDDEN if bad in shown], where
    assert click_actions(app) == [], where
    assert app.is_running, where


@pytest.mark.parametrize("key, alias", PANELS)
async def test_hostile_strings_are_shown_inert_in_every_panel(key, alias):
    app = hostile_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert app.current_view == alias
        assert_clean(app, alias)
        assert "␛" in screen_text(app) or "␛" in "".join(
            static_text(app, f"#{w.id}") for w in app.view_widgets[alias].query("Static") if w.id
        )


async def test_hostile_strings_in_dead_letter_detail_and_filter_stay_inert():
    app = hostile_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("5", "f", "space")
        await pilot.pause()
        assert "[@click=app.quit]" in static_text(app, "#dlq-detail-body")
        await pilot.press("slash", "left_square_bracket", "enter")
        await pilot.pause()
        assert_clean(app, "dlq filter")


async def test_hostile_strings_in_span_details_stay_inert():
    app = hostile_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("6")
        table = app.query_one("#trace-spans", RowTable)
        table.focus()
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.press("enter")
            await pilot.pause()
            assert_clean(app, f"span row {row}")
        await pilot.press("c")
        await pilot.pause()
        assert_clean(app, "critical path")


async def test_clicking_over_hostile_text_fires_no_action():
    app = hostile_app()
    async with app.run_test(size=(140, 40)) as pilot:
        for key, alias in PANELS:
            await pilot.press(key)
            await pilot.pause()
            # Where the tables and detail panes draw the hostile names and messages.
            for x, y in ((45, 5), (70, 5), (105, 4), (120, 8)):
                await pilot.click(offset=(x, y))
            assert app.is_running, alias
            if len(app.screen_stack) > 1:
                await pilot.press("escape")
