"""Each panel alone in a tiny app: it draws from its state, its local
keys work, and without an engine an action is reported, not attempted."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from engine import FakeClock

from console.state.breakers import BreakerBoardState
from console.state.dlq import DlqView
from console.state.fsm import FsmView
from console.state.metrics import MetricsPanelState
from console.state.sagas import SagaView
from console.state.traces import TraceView
from console.widgets.breaker_board import BreakerBoard
from console.widgets.dlq_browser import DlqBrowser
from console.widgets.fsm_panel import FsmPanel
from console.widgets.metrics_panel import MetricsPanel
from console.widgets.saga_panel import SagaPanel
from console.widgets.trace_waterfall import TraceWaterfall
from tests.console.conftest import T0
from tests.console.recorded_panels import panel_session
from tests.console.live_panels import keys, screen_text

PANELS = [
    (FsmPanel, FsmView, "web-1"),
    (SagaPanel, SagaView, "COMPENSATION_FAILED"),
    (BreakerBoard, BreakerBoardState, "payments-api"),
    (DlqBrowser, DlqView, "shop / charge"),
    (TraceWaterfall, TraceView, "run-0001"),
    (MetricsPanel, MetricsPanelState, "task_duration_seconds"),
]


class PanelApp(App[None]):
    """A bare app holding one panel; no engine, so actions cannot reach one."""

    def __init__(self, panel: Any) -> None:
        super().__init__()
        self.panel = panel
        self.engine = None
        self.readonly = False

    def compose(self) -> ComposeResult:
        yield self.panel


def panel_app(widget_type: Any, state_type: Any) -> PanelApp:
    state = state_type(FakeClock(T0 + 60))
    state.apply(panel_session())
    return PanelApp(widget_type(state))


@pytest.mark.parametrize("widget_type, state_type, text", PANELS)
async def test_panel_draws_from_its_state_alone(widget_type, state_type, text):
    app = panel_app(widget_type, state_type)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert text in screen_text(app)


async def test_dead_letter_filter_group_and_mark_work_without_an_engine():
    app = panel_app(DlqBrowser, DlqView)
    async with app.run_test(size=(120, 36)) as pilot:
        app.panel.focus_main()
        await pilot.press("slash", *keys("status:dead"), "enter")
        assert [x.status for x in app.panel.state.rows()] == ["dead", "dead"]
        await pilot.press("f", "space")
        assert len(app.panel.state.marked) == 1


async def test_action_without_an_engine_is_reported_not_attempted():
    app = panel_app(DlqBrowser, DlqView)
    async with app.run_test(size=(120, 36)) as pilot:
        app.panel.focus_main()
        await pilot.press("r")
        await pilot.pause()
        assert any("no engine attached" in n.message for n in app._notifications)
        assert app.panel.state.counts()["dead"] == 2


async def test_escape_closes_the_dead_letter_filter():
    app = panel_app(DlqBrowser, DlqView)
    async with app.run_test(size=(120, 36)) as pilot:
        app.panel.focus_main()
        await pilot.press("slash", "x", "escape")
        assert not app.panel.query_one("#dlq-filter").display
        assert app.focused is app.panel.query_one("#dlq-table")
