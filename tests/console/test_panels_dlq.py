"""Pilot tests of the dead-letter browser against a real Engine: every action
reaches the engine's queue, its events come back, the panel shows the outcome;
``--readonly`` refuses each."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from console.widgets.confirm_dialog import ConfirmDialog
from console.widgets.dlq_browser import DlqBrowser
from console.widgets.payload_editor import PayloadEditor
from console.widgets.reason_dialog import ReasonDialog
from console.widgets.row_table import RowTable
from tests.console.live_panels import (  # noqa: F401 - live_engine, workflow_dir: fixtures
    SIZE, keys, ledger_offline_until_flag, letters, live_engine, make_live_app, screen_text,
    static_text, until, workflow_dir,
)


async def failed_shop_run(app, engine, pilot, count: int = 1) -> list:
    for _ in range(count):
        engine.start_run("shop")
    await until(pilot, lambda: len(letters(engine, status="dead")) >= count)
    state = app.view_states["dlq"]
    await until(pilot, lambda: len([x for x in state.letters.values() if x.status == "dead"]) >= count)
    await pilot.press("5")
    await pilot.pause()
    return letters(engine)


async def test_failed_task_appears_with_its_error_and_detail(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        await until(pilot, lambda: "Traceback" in screen_text(app) and "payment gateway down" in screen_text(app))
        shown = screen_text(app)
        assert "shop / charge" in shown and "ConnectionError" in shown
        await until(pilot, lambda: '"amount": 3' in screen_text(app))


async def test_retry_that_fails_comes_back_with_one_more_attempt(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        await pilot.press("r")
        state = app.view_states["dlq"]
        await until(pilot, lambda: state.letters[letter.id].attempts == letter.attempts + 1)
        assert state.letters[letter.id].status == "dead"
        assert live_engine.runtime.dlq.get(letter.id).attempts == letter.attempts + 1


async def test_retry_after_the_fix_resolves_the_letter(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        (workflow_dir / "fixed.flag").write_text("fixed")
        await pilot.press("r")
        state = app.view_states["dlq"]
        await until(pilot, lambda: state.letters[letter.id].status == "resolved")
        assert live_engine.runtime.dlq.get(letter.id).status == "resolved"
        table = app.query_one("#dlq-table", RowTable)
        # The table shows it at the next redraw.
        await until(pilot, lambda: "resolved" in str(table.get_row_at(0)[1]))


async def test_bulk_retry_shows_the_count_first_and_retries_them_all(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await failed_shop_run(app, live_engine, pilot, count=2)
        (workflow_dir / "fixed.flag").write_text("fixed")
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Retry 2 filtered dead letters?" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: all(x.status == "resolved" for x in letters(live_engine)))
        state = app.view_states["dlq"]
        await until(pilot, lambda: state.counts()["resolved"] == 2)


async def test_bulk_retry_declined_does_nothing(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await failed_shop_run(app, live_engine, pilot)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await pilot.pause(0.3)
        assert all(x.status == "dead" and [a.action for a in x.history] == ["added"] for x in letters(live_engine))


async def test_marked_rows_are_what_bulk_retry_acts_on(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await failed_shop_run(app, live_engine, pilot, count=2)
        (workflow_dir / "fixed.flag").write_text("fixed")
        marked = app.query_one(DlqBrowser).selected_id()
        await pilot.press("space", "R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Retry 1 marked dead letter?" in screen_text(app)
        await pilot.press("y")
        await until(pilot, lambda: live_engine.runtime.dlq.get(marked).status == "resolved")
        assert len(letters(live_engine, status="dead")) == 1


async def test_filter_narrows_the_table(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await failed_shop_run(app, live_engine, pilot)
        live_engine.start_run("order")
        state = app.view_states["dlq"]
        await until(pilot, lambda: len(state.letters) == 2)
        await pilot.press("slash", *keys("unit:pay"), "enter")
        table = app.query_one("#dlq-table", RowTable)
        await until(pilot, lambda: table.row_count == 1)
        assert app.query_one(DlqBrowser).selected().unit == "pay"
        assert not app.query_one("#dlq-filter", Input).display


async def test_edit_payload_then_retry_sends_the_edited_payload(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        (workflow_dir / "fixed.flag").write_text("fixed")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PayloadEditor))
        app.screen.query_one(TextArea).text = '{"inputs": {"order": {"amount": 5}}}'
        await pilot.press("ctrl+r")
        await until(pilot, lambda: live_engine.runtime.dlq.get(letter.id).status == "resolved")
        record = live_engine.runtime.dlq.get(letter.id)
        assert record.payload == {"inputs": {"order": {"amount": 5}}}
        assert [a.action for a in record.history][:3] == ["added", "edit", "retry"]
        state = app.view_states["dlq"]
        await until(pilot, lambda: state.letters[letter.id].status == "resolved")


async def test_edit_with_invalid_json_is_refused_in_the_editor(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, PayloadEditor))
        app.screen.query_one(TextArea).text = '{"inputs": '
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert isinstance(app.screen, PayloadEditor)
        assert "Not JSON" in screen_text(app)
        assert [a.action for a in live_engine.runtime.dlq.get(letter.id).history] == ["added"]


async def test_discard_needs_a_reason_and_records_it(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "A reason is required" in screen_text(app)
        await pilot.press(*keys("duplicate order"), "enter")
        state = app.view_states["dlq"]
        await until(pilot, lambda: state.letters[letter.id].status == "discarded")
        record = live_engine.runtime.dlq.get(letter.id)
        assert record.status == "discarded" and record.history[-1].reason == "duplicate order"
        await until(pilot, lambda: "duplicate order" in static_text(app, "#dlq-detail-body"))


async def test_replay_republishes_a_handler_letter_and_resolves_it(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    flag = ledger_offline_until_flag(live_engine, workflow_dir)
    async with app.run_test(size=SIZE) as pilot:
        live_engine.bus.emit("order.paid", {"order_id": 7})
        await until(pilot, lambda: len(letters(live_engine, source="handler")) == 1)
        (letter,) = letters(live_engine, source="handler")
        await pilot.press("5")
        state = app.view_states["dlq"]
        await until(pilot, lambda: letter.id in state.letters)
        flag.write_text("ok")
        await pilot.press("p")
        await until(pilot, lambda: state.letters[letter.id].status == "resolved")
        assert live_engine.runtime.dlq.get(letter.id).status == "resolved"


async def test_readonly_refuses_every_dead_letter_action(live_engine, workflow_dir):
    app = make_live_app(live_engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        (letter,) = await failed_shop_run(app, live_engine, pilot)
        (workflow_dir / "fixed.flag").write_text("fixed")
        for key in ("r", "R", "p", "e", "d"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0], key
        await pilot.pause(0.3)
        record = live_engine.runtime.dlq.get(letter.id)
        assert record.status == "dead" and [a.action for a in record.history] == ["added"]
        footer = screen_text(app).splitlines()[-1]
        assert "Retry" not in footer and "Discard" not in footer
