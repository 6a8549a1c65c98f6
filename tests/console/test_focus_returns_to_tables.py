"""Focus goes back to the view's table: on its own view key, after dialogs; the
help scrolls with the keys at once; ``f`` on the instance table opens the event choice."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import OptionList

from engine import FakeClock

from console.app import FlowConsoleApp
from console.views import VIEWS
from console.widgets.command_line import CommandLine
from console.widgets.dlq_browser import DlqBrowser
from console.widgets.help_screen import HelpScreen
from console.widgets.reason_dialog import ReasonDialog
from console.widgets.row_table import RowTable

from .conftest import T0, quiet
from .recorded_panels import panel_session


def _app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(recorded_events=panel_session(), clock=FakeClock(T0 + 60)))


@pytest.mark.parametrize("key", [view.key for view in VIEWS])
async def test_the_view_key_of_the_current_view_puts_focus_back_on_its_main_widget(key: str) -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        main = app.focused
        view = app.view_widgets[app.current_view]
        others = [w for w in view.query("*") if w.focusable and w is not main]
        if not others:
            pytest.skip("this view has one focusable widget")
        app.set_focus(others[-1])
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert app.focused is main, (app.focused, main)


async def test_closing_a_dialog_opened_from_the_detail_pane_puts_focus_back_on_the_table() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        table = app.query_one("#dlq-table", RowTable)
        app.set_focus(app.query_one("#dlq-detail", VerticalScroll))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.focused is table


async def test_a_discard_after_a_dialog_acts_on_the_letter_highlighted_now() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        browser = app.query_one(DlqBrowser)
        app.set_focus(app.query_one("#dlq-detail", VerticalScroll))
        await pilot.press("d", "escape")
        await pilot.pause(0.2)
        first = browser.selected_id()
        await pilot.press("down")
        await pilot.pause()
        second = browser.selected_id()
        assert second != first
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        assert second in app.screen.title_text


async def test_the_help_scrolls_with_the_keys_at_once() -> None:
    app = _app()
    async with app.run_test(size=(100, 16)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = app.screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0, "the help is longer than the screen"
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0


async def test_f_on_the_instance_table_opens_the_event_choice_of_that_instance() -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert app.focused is app.query_one("#fsm-table", RowTable)
        await pilot.press("f")
        await pilot.pause()
        events = app.query_one("#fsm-events", OptionList)
        assert app.focused is events
        assert events.highlighted is not None
        assert not events.get_option_at_index(events.highlighted).disabled


async def test_the_refocus_after_a_dialog_leaves_focus_on_a_command_line_opened_before_it() -> None:
    # On an idle screen the refresh the refocus waits for can come after the
    # operator's next key: the command line it opened keeps the keys typed.
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("8", "colon")
        await pilot.pause()
        command_line = app.query_one(CommandLine)
        assert app.focused is command_line
        app._refocus_view()
        await pilot.press("d", "a", "g", "enter")
        await pilot.pause()
        assert app.current_view == "dag"
