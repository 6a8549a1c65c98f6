"""A scrollbar that repaints only when what it draws changes.

Textual's scrollbar repaints its whole height whenever its view's virtual
size, window or position changes at all, and its view repaints it again on
every update of the virtual size. The console's lists grow by a few rows
a second: a thumb a few cells high over thousands of rows moves by an
eighth of a cell (the finest step it draws) once in many updates, and a
view that only grew wider does not move its vertical thumb at all. Here
those changes repaint the bar only when its thumb is drawn elsewhere;
hovering, grabbing, a resize and a new theme repaint it as in Textual.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from textual.reactive import Reactive
from textual.scrollbar import ScrollBar

# The thumb's ends are drawn in eighths of a cell (`ScrollBarRender`'s glyphs).
STEPS = 8


class SteadyScrollBar(ScrollBar):
    """A `ScrollBar` whose size and position changes repaint it only when the thumb moves."""

    window_virtual_size: Reactive[int] = Reactive(100, repaint=False)
    window_size: Reactive[int] = Reactive(0, repaint=False)
    position: Reactive[float] = Reactive(0, repaint=False)

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        # The thumb as last drawn; None until drawn, and after a repaint asked for elsewhere.
        self._drawn: tuple[int, ...] | None = None

    def thumb(self) -> tuple[int, ...]:
        """Where `ScrollBarRender.render_bar` draws the thumb: (bar length, start, end) in eighths of a cell."""
        length = self.size.height if self.vertical else self.size.width
        virtual = ceil(self.window_virtual_size)
        window = ceil(self.window_size) if self.window_size < self.window_virtual_size else 0
        if not (window and length and virtual and length != virtual):
            return (length,)
        thumb = max(1, window / (virtual / length))
        start = int((length - thumb) * (self.position / (virtual - window)) * STEPS)
        return (length, start, start + ceil(thumb * STEPS))

    def watch_window_virtual_size(self) -> None:
        self._repaint_if_moved()

    def watch_window_size(self) -> None:
        self._repaint_if_moved()

    def watch_position(self) -> None:
        self._repaint_if_moved()

    def _repaint_if_moved(self) -> None:
        if self._drawn is not None and self.thumb() != self._drawn:
            self.refresh()

    def refresh(self, *args: Any, **kwargs: Any) -> Any:
        self._drawn = None
        return super().refresh(*args, **kwargs)

    def render(self) -> Any:
        self._drawn = self.thumb()
        return super().render()
