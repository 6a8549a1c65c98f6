"""Pilot tests of the state-machine and saga panels against a real Engine:
each action reaches the engine, its events come back, the panel shows the
outcome; ``--readonly`` refuses each."""

from __future__ import annotations

import getpass

from textual.widgets import OptionList

from console.state.fsm import REFUSED
from console.widgets.confirm_dialog import ConfirmDialog
from console.widgets.fsm_panel import FsmPanel
from console.widgets.reason_dialog import ReasonDialog
from console.widgets.row_table import RowTable
from tests.console.live_panels import (
    SIZE, keys, live_engine, make_live_app, screen_text, static_text, until, workflow_dir,  # noqa: F401 - fixtures
)


async def door_instance(app, engine, pilot, instance: str = "front") -> FsmPanel:
    engine.start_run("door", inputs={"instance_id": instance})
    state = app.view_states["fsm"]
    await until(pilot, lambda: ("door", instance) in state.instances)
    await pilot.press("2")
    panel = app.query_one(FsmPanel)
    index = next(i for i, inst in enumerate(state.rows()) if inst.instance == instance)
    app.query_one("#fsm-table", RowTable).move_cursor(row=index)
    await pilot.pause()
    return panel


async def pick_event(panel: FsmPanel, pilot, name: str) -> None:
    events = panel.query_one("#fsm-events", OptionList)
    events.focus()
    await pilot.press("home")
    for _ in range(panel._option_events.index(name)):
        await pilot.press("down")


async def test_firing_an_event_moves_the_instance_and_the_panel_shows_it(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        panel = await door_instance(app, live_engine, pilot)
        await pick_event(panel, pilot, "open")
        await pilot.press("f")
        state = app.view_states["fsm"]
        await until(pilot, lambda: state.instances[("door", "front")].state == "open")
        assert live_engine.run_record("front").handle.current_state == "open"
        await until(pilot, lambda: "closed ─open→ open" in static_text(app, "#fsm-history"))


async def test_a_refusing_guard_is_named_beside_its_event(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        panel = await door_instance(app, live_engine, pilot)
        await pick_event(panel, pilot, "lock")
        await pilot.press("enter")
        state = app.view_states["fsm"]
        inst = state.instances[("door", "front")]
        await until(pilot, lambda: "lock" in inst.refused)
        assert {o.event: o.status for o in state.options(inst)}["lock"] == REFUSED
        await until(pilot, lambda: "refused by has_key" in screen_text(app))
        assert inst.state == "closed"


async def test_readonly_refuses_firing(live_engine):
    app = make_live_app(live_engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        panel = await door_instance(app, live_engine, pilot)
        await pick_event(panel, pilot, "open")
        await pilot.press("f", "enter")
        await pilot.pause(0.3)
        assert live_engine.run_record("front").handle.current_state == "closed"
        assert any("refused" in n.message for n in app._notifications)
        assert "Fire event" not in screen_text(app).splitlines()[-1]


async def stuck_saga(app, engine, pilot) -> str:
    run_id = engine.start_run("order")
    state = app.view_states["saga"]
    await until(pilot, lambda: run_id in state.runs and state.runs[run_id].stuck)
    await pilot.press("3")
    await pilot.pause()
    return run_id


async def test_stuck_saga_stands_out_with_its_compensation_log(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await stuck_saga(app, live_engine, pilot)
        shown = screen_text(app)
        assert "⚠ 1 stuck in COMPENSATION_FAILED" in shown
        assert "⚠ COMPENSATION_FAILED" in shown
        log = static_text(app, "#saga-detail-body")
        assert log.index("pay  failed") < log.index("reserve  completed")
        assert "refund service down" in log


async def test_retry_compensation_after_the_fix_compensates_the_run(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        run_id = await stuck_saga(app, live_engine, pilot)
        (workflow_dir / "refund.flag").write_text("ok")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Retry pay of saga order" in screen_text(app)
        await pilot.press("y")
        state = app.view_states["saga"]
        await until(pilot, lambda: state.runs[run_id].status == "compensated")
        assert state.runs[run_id].steps["pay"].compensation == "completed"
        await until(pilot, lambda: "stuck" not in static_text(app, "#saga-summary"))


async def test_mark_compensated_requires_a_reason_and_records_it(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        run_id = await stuck_saga(app, live_engine, pilot)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*keys("refunded by hand"), "enter")
        state = app.view_states["saga"]
        await until(pilot, lambda: state.runs[run_id].status == "compensated")
        assert state.runs[run_id].marked_reason == "refunded by hand"
        # The operator: the OS user unless the console was opened with --actor.
        assert state.runs[run_id].marked_by == getpass.getuser()
        await until(pilot, lambda: "refunded by hand" in static_text(app, "#saga-detail-body"))


async def test_readonly_refuses_saga_actions(live_engine, workflow_dir):
    app = make_live_app(live_engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        run_id = await stuck_saga(app, live_engine, pilot)
        (workflow_dir / "refund.flag").write_text("ok")
        for key in ("c", "m"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0], key
        await pilot.pause(0.3)
        assert app.view_states["saga"].runs[run_id].stuck
        footer = screen_text(app).splitlines()[-1]
        assert "Retry compensation" not in footer and "Mark compensated" not in footer
