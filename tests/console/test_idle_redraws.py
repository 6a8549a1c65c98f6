"""An idle console redraws only what changed: empty drains draw nothing, the
event log appends, and many drains between two frames make one redraw."""

from __future__ import annotations

from typing import Any

from engine import Event, FakeClock

from console import drain
from console.app import FlowConsoleApp
from console.bridge import EventBridge
from console.widgets.event_rows import EventRows

from .conftest import T0, count_painted, quiet


class Counting:
    """A reducer that counts the batches it is handed."""

    def __init__(self) -> None:
        self.calls = 0

    def apply(self, events: Any) -> bool:
        self.calls += 1
        return True


def _events(n: int, start: int = 1) -> list[Event]:
    return [Event("task.completed", {"task": f"t{i}"}, id=f"e{i}", seq=i, ts=T0 + i, workflow="etl", run_id="r1")
            for i in range(start, start + n)]


def test_a_drain_that_brought_nothing_calls_no_reducer() -> None:
    bridge = EventBridge()
    reducer = Counting()
    bridge.register(reducer)
    assert bridge.pump() == []
    assert reducer.calls == 0


def _count_lines(rows: EventRows) -> list[int]:
    drawn: list[int] = []
    render_line = rows.render_line

    def counting(y: int):
        drawn.append(y)
        return render_line(y)

    rows.render_line = counting  # type: ignore[method-assign]
    return drawn


async def _events_view(app: FlowConsoleApp, pilot: Any) -> EventRows:
    await pilot.press("8")
    await pilot.pause(0.6)
    return app.query_one(EventRows)


async def _publish(app: FlowConsoleApp, pilot: Any, events: list[Event]) -> None:
    for event in events:
        app.bridge.on_event(event)
    # Past one redraw interval, so the drain draws them.
    await pilot.pause(drain.FRAME_INTERVAL + 0.3)


async def test_new_events_below_a_scrolled_up_log_redraw_none_of_its_lines() -> None:
    app = quiet(FlowConsoleApp(recorded_events=_events(100), clock=FakeClock(T0)))
    async with app.run_test(size=(120, 30)) as pilot:
        rows = await _events_view(app, pilot)
        await pilot.press("pageup")
        # Moving the cursor redraws the log and its detail: let that settle.
        await pilot.pause(1.2)
        assert not rows.follow
        drawn = _count_lines(rows)
        await _publish(app, pilot, _events(5, start=101))
        assert len(app.view_states["events"].rows) == 105
    assert drawn == []


async def test_a_log_not_yet_full_draws_only_the_new_lines_and_the_cursor_it_left() -> None:
    app = quiet(FlowConsoleApp(recorded_events=_events(3), clock=FakeClock(T0)))
    async with app.run_test(size=(120, 30)) as pilot:
        rows = await _events_view(app, pilot)
        drawn = _count_lines(rows)
        await _publish(app, pilot, _events(2, start=4))
        assert rows.cursor == 4
    assert sorted(set(drawn)) == [2, 3, 4]


async def test_drains_between_two_frames_make_one_redraw(monkeypatch) -> None:
    app = quiet(FlowConsoleApp(recorded_events=_events(3), clock=FakeClock(T0)))
    async with app.run_test(size=(120, 30)) as pilot:
        await _events_view(app, pilot)
        synced: list[str] = []
        sync_view = app._sync_view
        monkeypatch.setattr(app, "_sync_view", lambda alias: (synced.append(alias), sync_view(alias)))
        for step in range(5):
            app.bridge.on_event(_events(1, start=10 + step)[0])
            app._fold()
        assert synced == []
        app._frame()
        assert synced == ["events"]
        assert len(app.view_states["events"].rows) == 8


async def test_a_panel_text_shown_again_is_not_redrawn_and_one_of_the_same_size_lays_out_nothing() -> None:
    from rich.text import Text
    from textual.app import App
    from textual.widgets import Static

    from console.widgets.static_text import show_text

    class One(App):
        def compose(self):
            yield Static(id="panel")

    app = One()
    async with app.run_test() as pilot:
        panel = app.query_one("#panel", Static)
        show_text(panel, Text("in staging for 57s"))
        await pilot.pause()
        refreshes: list[bool] = []
        refresh = panel.refresh
        panel.refresh = lambda *a, layout=False, **k: (refreshes.append(layout), refresh(*a, layout=layout, **k))[1]
        show_text(panel, Text("in staging for 57s"))
        assert refreshes == []
        show_text(panel, Text("in staging for 58s"))
        assert refreshes == [False]
        show_text(panel, Text("in staging for 58s\nblocked"))
        assert refreshes[1:] == [False, True]


async def test_a_metrics_read_is_drawn_in_the_next_frame_not_at_once() -> None:
    from console.widgets.metrics_panel import MetricsPanel

    app = quiet(FlowConsoleApp(recorded_events=_events(1), clock=FakeClock(T0)))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("7")
        await pilot.pause(0.3)
        panel = app.query_one(MetricsPanel)
        synced: list[int] = []
        sync = panel.sync
        panel.sync = lambda: (synced.append(1), sync())[1]  # type: ignore[method-assign]
        panel._absorb([{"name": "orders_total", "kind": "counter", "series": [{"labels": {}, "value": 3}]}])
        assert synced == []
        panel.refresh_clock()
        assert synced == [1]
        panel.refresh_clock()
        assert synced == [1]


def _counters(**values: float) -> list[dict[str, Any]]:
    return [{"name": "orders_total", "kind": "counter", "series": [
        {"labels": {"shop": shop}, "value": value} for shop, value in values.items()]}]


async def test_a_metrics_read_repaints_only_the_lines_of_the_series_it_changed() -> None:
    from console.widgets.metrics_panel import MetricsPanel
    from console.widgets.text_pane import TextPane

    clock = FakeClock(T0)
    app = quiet(FlowConsoleApp(recorded_events=_events(1), clock=clock))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("7")
        panel = app.query_one(MetricsPanel)
        for _ in range(2):
            panel.state.apply_collect(_counters(a=1, b=1, c=1))
            clock.advance(1)
        panel.sync()
        await pilot.pause()
        body = app.query_one("#metrics-body", TextPane)
        lines = body.text.plain.split("\n")
        painted = count_painted(body)
        panel.state.apply_collect(_counters(a=1, b=5, c=1))
        panel.sync()
        await pilot.pause()
        assert sorted(set(painted)) == [next(i for i, line in enumerate(lines) if "shop=b" in line)]


async def test_a_metrics_sync_with_nothing_new_keeps_every_line_it_drew() -> None:
    from console.widgets.metrics_panel import MetricsPanel
    from console.widgets.text_pane import TextPane

    app = quiet(FlowConsoleApp(recorded_events=_events(1), clock=FakeClock(T0)))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("7")
        panel = app.query_one(MetricsPanel)
        panel.state.apply_collect(_counters(a=1, b=2))
        panel.sync()
        await pilot.pause()
        body = app.query_one("#metrics-body", TextPane)
        drawn = list(body._lines)
        panel.sync()
        assert all(now is was for now, was in zip(body._lines, drawn)) and len(body._lines) == len(drawn)
