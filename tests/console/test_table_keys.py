"""The keys every table and list shares (console/widgets/table_keys.py), and sorting.

j/k down and up, g/G first and last row, ctrl+d/ctrl+u half a page, y copy
the selected row; s/S cycle the sort of the dead-letter and saga tables.
Driven with Pilot on recorded events.
"""

from __future__ import annotations

import json

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets.table_keys import TableKeys
from console.widgets.row_table import RowTable
from tests.console.conftest import T0, quiet, recorded_session, wait_until
from tests.console.recorded_panels import panel_session

SIZE = (120, 36)


def views_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 15), recorded_events=recorded_session()))


def panels_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 60), recorded_events=panel_session()))


async def focused_table(pilot, key: str | None) -> TableKeys:
    if key is None:
        pilot.app.query_one("#workflow-list").focus()
    else:
        await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.focused, TableKeys) and pilot.app.focused.nav_count() > 1)
    return pilot.app.focused


VIEWS = [
    ("sidebar", None, panels_app),
    ("fsm", "2", panels_app),
    ("saga", "3", panels_app),
    ("cb", "4", panels_app),
    ("dlq", "5", panels_app),
    ("trace", "6", panels_app),
    ("events", "8", views_app),
]


@pytest.mark.parametrize(("view", "key", "make_app"), VIEWS)
async def test_G_goes_to_the_last_row_and_g_to_the_first(view, key, make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        table = await focused_table(pilot, key)
        await pilot.press("G")
        await wait_until(pilot, lambda: table.nav_index() == table.nav_count() - 1)
        await pilot.press("g")
        await wait_until(pilot, lambda: table.nav_index() == 0)


@pytest.mark.parametrize(("view", "key", "make_app"), VIEWS)
async def test_j_moves_down_and_k_up(view, key, make_app) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        table = await focused_table(pilot, key)
        await pilot.press("g", "j")
        await wait_until(pilot, lambda: table.nav_index() == 1)
        await pilot.press("k")
        await wait_until(pilot, lambda: table.nav_index() == 0)


async def test_ctrl_d_moves_half_a_page_down_and_ctrl_u_back_up() -> None:
    async with views_app().run_test(size=SIZE) as pilot:
        table = await focused_table(pilot, "8")
        half = table.nav_page() // 2
        assert 1 < half < table.nav_count() - 1
        await pilot.press("g", "ctrl+d")
        await wait_until(pilot, lambda: table.nav_index() == half)
        await pilot.press("ctrl+u")
        await wait_until(pilot, lambda: table.nav_index() == 0)


async def test_ctrl_d_stops_at_the_last_row() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        table = await focused_table(pilot, "5")
        await pilot.press("G", "ctrl+d")
        await pilot.pause()
        assert table.nav_index() == table.nav_count() - 1


async def test_y_copies_the_selected_dead_letter_as_json() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "5")
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(pilot.app.clipboard))
        letter = json.loads(pilot.app.clipboard)
        assert letter["id"] == pilot.app.query_one("#view-dlq").selected_id()
        assert {"error", "error_type", "payload", "workflow", "unit", "fingerprint"} <= set(letter)


async def test_y_copies_the_selected_saga_run_id() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "3")
        await pilot.press("j", "y")
        await wait_until(pilot, lambda: pilot.app.clipboard == pilot.app.query_one("#view-saga").selected().run_id)


async def test_y_copies_the_selected_workflow_name_in_the_sidebar() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, None)
        await pilot.press("y")
        await wait_until(pilot, lambda: pilot.app.clipboard == pilot.app.selected_workflow)


async def test_y_copies_the_selected_event_as_json() -> None:
    async with views_app().run_test(size=SIZE) as pilot:
        table = await focused_table(pilot, "8")
        await pilot.press("g", "y")
        await wait_until(pilot, lambda: bool(pilot.app.clipboard))
        assert json.loads(pilot.app.clipboard)["id"] == table.selected.id


def column(app: FlowConsoleApp, table_id: str, index: int) -> list[str]:
    table = app.query_one(table_id, RowTable)
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def test_s_sorts_the_dead_letters_by_the_next_column_and_S_reverses() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "5")
        await pilot.press("s")
        await wait_until(pilot, lambda: "sorted by status ▲" in str(pilot.app.query_one("#dlq-summary").render()))
        statuses = column(pilot.app, "#dlq-table", 1)
        assert statuses == sorted(statuses)
        await pilot.press("S")
        await wait_until(pilot, lambda: "sorted by status ▼" in str(pilot.app.query_one("#dlq-summary").render()))
        assert column(pilot.app, "#dlq-table", 1) == sorted(statuses, reverse=True)
        await pilot.press("s")
        await wait_until(pilot, lambda: "sorted by age ▲" in str(pilot.app.query_one("#dlq-summary").render()))


async def test_s_after_the_last_column_returns_the_dead_letters_to_their_own_order() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "5")
        own = column(pilot.app, "#dlq-table", 2)
        browser = pilot.app.query_one("#view-dlq")
        await pilot.press(*["s"] * (len(browser.sort.columns) + 1))
        await wait_until(pilot, lambda: "sorted by" not in str(pilot.app.query_one("#dlq-summary").render()))
        assert column(pilot.app, "#dlq-table", 2) == own


async def test_s_sorts_the_saga_runs_and_S_reverses() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "3")
        await pilot.press("s")
        await wait_until(pilot, lambda: "sorted by status ▲" in str(pilot.app.query_one("#saga-summary").render()))
        ascending = column(pilot.app, "#saga-table", 0)
        assert ascending == sorted(ascending, key=lambda s: s.lstrip("⚠ "))
        await pilot.press("S")
        await wait_until(pilot, lambda: column(pilot.app, "#saga-table", 0) == ascending[::-1])


async def test_f_groups_the_dead_letters_by_fingerprint() -> None:
    async with panels_app().run_test(size=SIZE) as pilot:
        await focused_table(pilot, "5")
        await pilot.press("f")
        await wait_until(pilot, lambda: "grouped by fingerprint" in str(pilot.app.query_one("#dlq-summary").render()))


async def test_the_event_log_opens_following_the_newest_event_in_a_small_terminal() -> None:
    async with views_app().run_test(size=(80, 24)) as pilot:
        rows = await focused_table(pilot, "8")
        await pilot.pause()
        assert rows.nav_index() == rows.nav_count() - 1
        assert rows.scroll_y == rows.max_scroll_y > 0


async def test_moving_the_cursor_up_stops_following_the_newest_event() -> None:
    async with views_app().run_test(size=(80, 24)) as pilot:
        rows = await focused_table(pilot, "8")
        await pilot.press("g")
        await pilot.pause()
        assert rows.nav_index() == 0 and rows.scroll_y == 0 and not rows.follow


async def test_a_key_pressed_before_a_pending_follow_scroll_keeps_the_cursor_in_view() -> None:
    async with views_app().run_test(size=(80, 24)) as pilot:
        rows = await focused_table(pilot, "8")
        await pilot.pause()
        rows.sync()  # a new event arrived: a scroll to the end is pending
        rows.action_cursor(-25)  # and the operator moved up before it ran
        await pilot.pause()
        assert rows.scroll_y <= rows.cursor < rows.scroll_y + rows.size.height
