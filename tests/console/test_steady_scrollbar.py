"""Scrollbars of the console's panes repaint only when their thumbs move."""

from __future__ import annotations

from textual.app import App, ComposeResult

from console.widgets.steady_scrollbar import SteadyScrollBar
from console.widgets.text_pane import TextPane


class OnePane(App):
    CSS = "TextPane { height: 5; }"

    def compose(self) -> ComposeResult:
        yield TextPane(id="p")


def _lines(count: int, width: int = 10) -> str:
    return "\n".join(f"{i:<{width}}" for i in range(count))


def _count_renders(bar: SteadyScrollBar) -> list[int]:
    renders: list[int] = []
    render = bar.render

    def counting():
        renders.append(1)
        return render()

    bar.render = counting
    return renders


async def test_the_panes_scrollbars_are_steady_ones() -> None:
    async with OnePane().run_test(size=(40, 8)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.show(_lines(100, width=60))
        await pilot.pause()
        assert isinstance(pane.vertical_scrollbar, SteadyScrollBar)
        assert isinstance(pane.horizontal_scrollbar, SteadyScrollBar)


async def test_a_text_that_grows_without_moving_the_thumb_does_not_repaint_the_scrollbar() -> None:
    async with OnePane().run_test(size=(40, 8)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.show(_lines(1000))
        await pilot.pause()
        renders = _count_renders(pane.vertical_scrollbar)
        pane.show(_lines(1010))
        await pilot.pause()
        assert renders == []


async def test_a_text_that_only_grows_wider_does_not_repaint_the_vertical_scrollbar() -> None:
    async with OnePane().run_test(size=(40, 8)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.show(_lines(20))
        await pilot.pause()
        renders = _count_renders(pane.vertical_scrollbar)
        pane.show(_lines(20, width=30))
        await pilot.pause()
        assert renders == []


async def test_a_scroll_that_moves_the_thumb_repaints_the_scrollbar_where_it_now_is() -> None:
    async with OnePane().run_test(size=(40, 8)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.show(_lines(40))
        await pilot.pause()
        bar = pane.vertical_scrollbar
        before = bar.thumb()
        renders = _count_renders(bar)
        pane.scroll_end(animate=False)
        await pilot.pause()
        assert renders and bar.thumb() != before
        assert bar.thumb()[2] == bar.thumb()[0] * 8


async def test_a_text_that_shrinks_the_thumb_repaints_the_scrollbar() -> None:
    async with OnePane().run_test(size=(40, 8)) as pilot:
        pane = pilot.app.query_one(TextPane)
        pane.show(_lines(10))
        await pilot.pause()
        renders = _count_renders(pane.vertical_scrollbar)
        pane.show(_lines(20))
        await pilot.pause()
        assert renders
