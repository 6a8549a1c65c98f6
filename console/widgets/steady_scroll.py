"""A scroll view whose content grows without laying out the screen.

Textual lays out the whole screen whenever a widget's virtual (scrollable)
size changes, because an auto-sized widget's size depends on it. The
console's lists and tables have a fixed size in their pane and grow by a
row or two every second (events, instances, runs); laying out the screen
for each costs many times drawing the rows. `SteadyScrollView` lays out
only when its size does depend on its content (``height`` or ``width`` is
``auto``); otherwise it updates its scrollbars in place. A scrollbar that
appears or goes still lays out the screen, as Textual does for it. The
content is not repainted for a new virtual size: the view repaints the
lines that changed (a scroll offset clamped to the new size repaints all),
and its scrollbars are `SteadyScrollBar`s, repainted when their thumbs move.
"""

from __future__ import annotations

from typing import Iterable

from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar

from .steady_scrollbar import SteadyScrollBar


class SteadyScrollView(ScrollView):
    """A `ScrollView` that lays out for its virtual size only when sized by its content."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.styles.is_auto_height or self.styles.is_auto_width:
            self.refresh(layout=True)
            return
        # Textual's own update of the scrollbars on a resize (`_scroll_update`):
        # their visibility (which lays out when it changes), their windows and
        # the offsets; but not a repaint of each bar, which repaints itself if
        # its thumb moved.
        self._refresh_scrollbars()
        width, height = self.container_size
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical:
            self.vertical_scrollbar.window_virtual_size = size.height
            self.vertical_scrollbar.window_size = height - self.scrollbar_size_horizontal
        if self.show_horizontal_scrollbar and self.styles.scrollbar_size_horizontal:
            self.horizontal_scrollbar.window_virtual_size = size.width
            self.horizontal_scrollbar.window_size = width - self.scrollbar_size_vertical
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    # Textual's scrollbar properties, making `SteadyScrollBar`s.
    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = self._start_scrollbar(
                SteadyScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical))
        return self._vertical_scrollbar

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        if self._horizontal_scrollbar is None:
            self._horizontal_scrollbar = self._start_scrollbar(
                SteadyScrollBar(vertical=False, name="horizontal", thickness=self.scrollbar_size_horizontal))
        return self._horizontal_scrollbar

    def _start_scrollbar(self, bar: ScrollBar) -> ScrollBar:
        bar.display = False
        self.app._start_widget(self, bar)
        return bar

    def repaint_lines(self, y: int, count: int = 1) -> None:
        """Repaint ``count`` lines from virtual line ``y``, and not the scrollbars beside them.

        Textual's `refresh_lines` marks the lines across the scrollbar too, and
        a scrollbar in a dirty region is rendered again whole.
        """
        self.refresh(Region(0, y - self.scroll_offset.y, self.scrollable_content_region.width, count))

    def repaint_rows(self, lines: Iterable[int]) -> None:
        """`repaint_lines` for each of the virtual ``lines`` on screen, in one refresh."""
        top = self.scroll_offset.y
        region = self.scrollable_content_region
        regions = [Region(0, y - top, region.width, 1) for y in lines if 0 <= y - top < region.height]
        if regions:
            self.refresh(*regions)
