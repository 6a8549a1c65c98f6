"""Pilot tests of the breaker board, the trace waterfall and the metrics panel
against a real Engine: breaker actions reach the registry and come back as
events; ``--readonly`` refuses them; traces and metrics show what ran."""

from __future__ import annotations

import re


from console.widgets.breaker_board import BreakerBoard
from console.widgets.reason_dialog import ReasonDialog
from console.widgets.trace_waterfall import TraceWaterfall
from console.widgets.row_table import RowTable
from console.widgets.text_pane import TextPane
from tests.console.live_panels import (  # noqa: F401 - live_engine, workflow_dir: fixtures
    SIZE, keys, ledger_offline_until_flag, letters, live_engine, make_live_app, screen_text, static_text,
    until, workflow_dir,
)


async def board_with(app, engine, pilot, *names: str) -> BreakerBoard:
    for name in names:
        engine.runtime.breakers.get_or_create(name, failure_threshold=3, timeout=30)
    await pilot.press("4")
    state = app.view_states["cb"]
    await until(pilot, lambda: all(n in state.tiles for n in names))
    return app.query_one(BreakerBoard)


async def test_tiles_show_live_counters_sorted_by_error_rate(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        calm = live_engine.runtime.breakers.get_or_create("calm-api", failure_threshold=3, timeout=30)
        shaky = live_engine.runtime.breakers.get_or_create(
            "shaky-api", failure_rate_threshold=90, sliding_window_size=10, minimum_calls=5, timeout=30)
        calm.call(lambda: "ok")

        def boom():
            raise OSError("down")

        for _ in range(2):
            try:
                shaky.call(boom)
            except OSError:
                pass
        shaky.call(lambda: "ok")
        board = await board_with(app, live_engine, pilot, "calm-api", "shaky-api")
        state = app.view_states["cb"]
        await until(pilot, lambda: state.tiles["shaky-api"].window_calls == 3)
        assert [t.name for t in state.ordered()] == ["shaky-api", "calm-api"]
        # The state moves first; the board redraws on the next drain.
        await until(pilot, lambda: "fail 66.7%  window 3 calls (min 5)" in screen_text(app))
        shown = screen_text(app)
        assert shown.index("shaky-api") < shown.index("calm-api")
        assert board.cursor == 0


async def test_force_open_then_force_closed_then_reset(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        await board_with(app, live_engine, pilot, "pay-api")
        breaker = live_engine.runtime.breakers.get("pay-api")
        state = app.view_states["cb"]
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press(*keys("drill"), "enter")
        await until(pilot, lambda: state.tiles["pay-api"].override == "forced_open")
        assert breaker.snapshot()["override"] == "forced_open"
        await until(pilot, lambda: "OPEN forced" in screen_text(app))
        await pilot.press("c", *keys("drill"), "enter")
        await until(pilot, lambda: state.tiles["pay-api"].override == "forced_closed")
        await pilot.press("x", *keys("drill"), "enter")
        await until(pilot, lambda: state.tiles["pay-api"].override is None)
        assert state.tiles["pay-api"].state == "closed"
        assert breaker.snapshot()["override"] is None


async def test_readonly_refuses_breaker_actions(live_engine):
    app = make_live_app(live_engine, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await board_with(app, live_engine, pilot, "pay-api")
        for key in ("o", "c", "x"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0], key
        assert live_engine.runtime.breakers.get("pay-api").snapshot()["override"] is None
        footer = screen_text(app).splitlines()[-1]
        assert "Force open" not in footer and "Reset" not in footer


async def test_waterfall_shows_the_run_with_errors_and_details(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        run_id = live_engine.start_run("shop")
        state = app.view_states["trace"]
        await until(pilot, lambda: run_id in state.runs and any(
            s.name == "run:shop" for s in state.runs[run_id].spans.values()))
        await pilot.press("6")
        view = app.query_one(TraceWaterfall)
        view.run_key = run_id
        view.sync()
        await pilot.pause()
        shown = screen_text(app)
        assert "run:shop" in shown and re.search(r"✕ +task:charge", shown)
        rows = state.waterfall(run_id)
        index = next(i for i, r in enumerate(rows) if r.span.name == "task:order")
        table = app.query_one("#trace-spans", RowTable)
        table.focus()
        table.move_cursor(row=index)
        await pilot.press("enter")
        await until(pilot, lambda: '"task": "order"' in static_text(app, "#trace-detail-body"))
        await pilot.press("c")
        assert view.show_critical
        await until(pilot, lambda: "critical path highlighted" in screen_text(app))


async def test_replayed_letter_span_links_to_the_original_trace(live_engine, workflow_dir):
    app = make_live_app(live_engine)
    flag = ledger_offline_until_flag(live_engine, workflow_dir)
    async with app.run_test(size=SIZE) as pilot:
        tracer = live_engine.runtime.tracer
        with tracer.start_span("checkout", kind="server") as origin:
            live_engine.bus.emit("order.paid", {"order_id": 7}, trace_id=origin.trace_id, span_id=origin.span_id)
        await until(pilot, lambda: len(letters(live_engine, source="handler")) == 1)
        (letter,) = letters(live_engine, source="handler")
        flag.write_text("ok")
        await pilot.press("5")
        dlq_state = app.view_states["dlq"]
        await until(pilot, lambda: letter.id in dlq_state.letters)
        # The state has it at once; the table shows it at the next redraw.
        await until(pilot, lambda: app.query_one("#view-dlq").selected_id() == letter.id)
        await pilot.press("p")
        state = app.view_states["trace"]

        def replay_span():
            return next((s for r in state.runs.values() for s in r.spans.values() if s.name == "dlq.replay"), None)

        await until(pilot, lambda: replay_span() is not None)
        span = replay_span()
        assert span.links and span.links[0]["span_id"] == origin.span_id
        await pilot.press("6")
        view = app.query_one(TraceWaterfall)
        view.run_key = state.run_for_trace(span.trace_id)
        view.sync()
        rows = state.waterfall(view.run_key)
        table = app.query_one("#trace-spans", RowTable)
        table.focus()
        table.move_cursor(row=next(i for i, r in enumerate(rows) if r.span.span_id == span.span_id))
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        assert view.run_key == state.run_for_trace(origin.trace_id)
        assert view.detail_span == origin.span_id


async def test_metrics_show_counters_histograms_and_pool_load(live_engine):
    app = make_live_app(live_engine)
    async with app.run_test(size=SIZE) as pilot:
        live_engine.runtime.metrics.gauge("pool_queue_depth", 4, labels={"pool": "work", "worker": "0"})
        live_engine.runtime.metrics.gauge("pool_busy_workers", 2, labels={"pool": "work"})
        live_engine.runtime.metrics.increment("pool_steals_total", 3, labels={"pool": "work"})
        live_engine.runtime.metrics.histogram("checkout_seconds", 0.25)
        live_engine.runtime.metrics.increment("orders_total")
        await pilot.press("7")
        state = app.view_states["metrics"]
        await until(pilot, lambda: "orders_total" in state.series and "work" in state.pools)
        body = app.query_one("#metrics-body", TextPane)
        await until(pilot, lambda: "checkout_seconds" in body.text.plain)
        assert "orders_total" in body.text.plain
        assert "work  busy 2/-" in body.text.plain and "0 ████████ 4" in body.text.plain
