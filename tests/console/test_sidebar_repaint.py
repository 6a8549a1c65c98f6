"""The sidebar repaints only the entries that changed, and a taller entry lays out nothing."""

from __future__ import annotations

from engine import FakeClock

from console import drain
from console.app import FlowConsoleApp

from .conftest import T0, Recorder, count_painted, quiet, workflow_loaded

SAGA_SPEC = {"steps": ["reserve", "charge"]}


def _two_sagas() -> Recorder:
    rec = Recorder()
    workflow_loaded(rec, "checkout", "saga", SAGA_SPEC)
    workflow_loaded(rec, "refund", "saga", SAGA_SPEC)
    run = {"workflow": "checkout", "run_id": "s-1"}
    rec.add("saga.started", {"steps": ["reserve", "charge"], "status": "running"}, at=2, **run)
    return rec



def _lines(sidebar, count: int) -> list[str]:
    return [sidebar.render_line(y).text.rstrip() for y in range(count)]


async def test_an_age_that_ticks_repaints_only_its_entrys_lines() -> None:
    clock = FakeClock(T0 + 20)
    app = quiet(FlowConsoleApp(recorded_events=_two_sagas().events, clock=clock))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(drain.FRAME_INTERVAL + 0.3)
        sidebar = app._sidebar
        painted = count_painted(sidebar)
        clock.advance(1)
        await pilot.pause(drain.FRAME_INTERVAL + 0.3)
        # checkout is lines 0 and 1; refund, with no run, has no age to tick.
        assert sorted(set(painted)) == [0, 1]
        assert _lines(sidebar, 4) == ["checkout", "  saga · running · 19s ago", "refund", "  saga · idle"]


async def test_an_entry_that_grows_a_line_lays_out_nothing() -> None:
    rec = _two_sagas()
    app = quiet(FlowConsoleApp(recorded_events=rec.events, clock=FakeClock(T0 + 20)))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(drain.FRAME_INTERVAL + 0.3)
        sidebar = app._sidebar
        layouts: list[int] = []
        refresh_layout = app.screen._refresh_layout
        app.screen._refresh_layout = lambda *a, **k: (layouts.append(1), refresh_layout(*a, **k))[1]
        later = Recorder(start_seq=rec.seq)
        later.add("saga.compensated", {"status": "compensated"}, at=3, workflow="checkout", run_id="s-1")
        app.bridge.on_event(later.events[0])
        await pilot.pause(drain.FRAME_INTERVAL + 0.3)
        # "saga · compensated · 17s ago" is too long for the sidebar: the age takes a line.
        assert _lines(sidebar, 5) == ["checkout", "  saga · compensated", "  17s ago", "refund", "  saga · idle"]
    assert layouts == []
