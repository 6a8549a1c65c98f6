"""Every view at 80x24, the smallest terminal an operator is likely to have.

Below 100 columns the screen is `-narrow` (see console/narrow.tcss): short
header labels, a narrower sidebar, detail panes that share the width. Fed
with recorded events and a FakeClock like the other snapshots, so the
screens are deterministic. Regenerate with ``--snapshot-update`` and look
at the SVGs in ``__snapshots__/`` before committing them.
"""

from __future__ import annotations

import pytest

from engine import FakeClock

from console.app import FlowConsoleApp
from tests.console.conftest import T0, quiet, recorded_session
from tests.console.recorded_panels import panel_session

SIZE = (80, 24)


def views_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 15), recorded_events=recorded_session(), theme="flowconsole-dark"))


def panels_app() -> FlowConsoleApp:
    return quiet(FlowConsoleApp(clock=FakeClock(T0 + 60), recorded_events=panel_session(), theme="flowconsole-dark"))


def showing(*keys: str):
    async def run_before(pilot) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(("view", "key", "make_app"), [
    ("dag", "1", views_app),
    ("fsm", "2", panels_app),
    ("saga", "3", panels_app),
    ("cb", "4", panels_app),
    ("dlq", "5", panels_app),
    ("trace", "6", panels_app),
    ("metrics", "7", panels_app),
    ("events", "8", views_app),
])
def test_every_view_fits_an_80_by_24_terminal(snap_compare, view: str, key: str, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=showing(key))


@pytest.mark.parametrize(("width", "shown", "hidden"), [
    (80, "dlq 2  cb open 0  drop 0", "dead letters"),
    (120, "dead letters 2  breakers open 0  dropped 0", "dlq 2"),
])
async def test_the_header_has_short_labels_below_100_columns(width: int, shown: str, hidden: str) -> None:
    async with panels_app().run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        header = str(pilot.app.query_one("#header").render())
        assert shown in header and hidden not in header
