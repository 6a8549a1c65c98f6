"""Pilot tests: the footer follows the focused view's bindings, reusing its keys."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from console.app import FlowConsoleApp
from console.widgets.key_footer import KeyFooter
from engine import FakeClock
from tests.console.conftest import T0, quiet, recorded_session

SIZE = (120, 36)


def make_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 15), recorded_events=recorded_session()))


def shown(app: FlowConsoleApp) -> list[str]:
    keys = app.query_one(KeyFooter).query_children(FooterKey)
    return [key.description for key in keys if key.display and not key.has_class("-command-palette")]


async def test_footer_shows_the_bindings_of_the_view_switched_to() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Rerun from task" in shown(app) and "Filter" not in shown(app)
        await pilot.press("8")
        await pilot.pause()
        assert "Filter" in shown(app) and "Rerun from task" not in shown(app)
        await pilot.press("1")
        await pilot.pause()
        assert "Rerun from task" in shown(app) and "Filter" not in shown(app)


async def test_footer_keys_match_what_the_screen_binds_in_order() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8")
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        assert shown(app) == [spec.description for spec in footer.key_specs()]


async def test_switching_views_back_and_forth_mounts_no_new_keys() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for key in ("8", "1"):
            await pilot.press(key)
            await pilot.pause()
        before = {id(key) for key in app.query(FooterKey)}
        for key in ("8", "1", "8", "1"):
            await pilot.press(key)
            await pilot.pause()
        assert {id(key) for key in app.query(FooterKey)} == before
