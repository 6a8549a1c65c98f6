"""Pilot tests of the DAG canvas: layout caching, large graphs, scrolling."""

from __future__ import annotations

from engine import FakeClock

from console.app import FlowConsoleApp
from console.widgets import dag_canvas
from console.widgets.dag_canvas import DagCanvas
from tests.console.conftest import T0, Recorder, quiet, workflow_loaded

SIZE = (120, 36)


def chain_app(tasks: dict[str, list[str]]) -> FlowConsoleApp:
    rec = Recorder()
    workflow_loaded(rec, "big", "dag", {"tasks": tasks})
    return quiet(FlowConsoleApp(clock=FakeClock(T0), recorded_events=rec.events))


def canvas_text(canvas: DagCanvas) -> str:
    return "\n".join(strip.text for strip in canvas._lines)


async def test_layout_is_recomputed_only_when_the_shape_changes(monkeypatch) -> None:
    calls: list[int] = []
    original = dag_canvas.layered_layout

    def counting(tasks):
        calls.append(len(tasks))
        return original(tasks)

    monkeypatch.setattr(dag_canvas, "layered_layout", counting)
    app = chain_app({"a": [], "b": ["a"]})
    async with app.run_test(size=SIZE) as pilot:
        canvas = app.query_one(DagCanvas)
        before = len(calls)
        canvas.show({"a": [], "b": ["a"]}, None)
        canvas.show({"b": ["a"], "a": []}, None)
        assert len(calls) == before
        canvas.show({"a": [], "b": ["a"], "c": ["b"]}, None)
        assert len(calls) == before + 1
        await pilot.pause()


async def test_spec_without_runs_draws_every_task_pending() -> None:
    app = chain_app({"a": [], "b": ["a"]})
    async with app.run_test(size=SIZE):
        text = canvas_text(app.query_one(DagCanvas))
        assert "○ a" in text and "○ b" in text and "▶" in text


async def test_large_graph_draws_only_the_selected_tasks_edges() -> None:
    # A fan-out of 60 tasks from one root: only the selected leaf's edge is drawn.
    tasks = {"root": [], **{f"leaf{i:02d}": ["root"] for i in range(60)}}
    app = chain_app(tasks)
    async with app.run_test(size=SIZE) as pilot:
        canvas = app.query_one(DagCanvas)
        canvas.select("leaf30")
        await pilot.pause()
        arrows = canvas_text(canvas).count("▶")
        assert arrows == 1


async def test_small_graph_draws_every_edge() -> None:
    tasks = {"root": [], **{f"leaf{i}": ["root"] for i in range(5)}}
    app = chain_app(tasks)
    async with app.run_test(size=SIZE):
        assert canvas_text(app.query_one(DagCanvas)).count("▶") == 5


async def test_selecting_a_task_off_screen_scrolls_to_it() -> None:
    tasks = {f"t{i:02d}": ([f"t{i - 1:02d}"] if i else []) for i in range(20)}
    app = chain_app(tasks)
    async with app.run_test(size=SIZE) as pilot:
        canvas = app.query_one(DagCanvas)
        for _ in range(19):
            await pilot.press("right")
        assert canvas.selected == "t19"
        assert canvas.scroll_offset.x > 0


async def test_wide_and_control_characters_keep_chips_aligned() -> None:
    app = chain_app({"数据处理": [], "x\x1by": ["数据处理"]})
    async with app.run_test(size=SIZE):
        text = canvas_text(app.query_one(DagCanvas))
        assert "数据处理" in text and "x␛y" in text and "\x1b" not in text
