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
lines that changed (a scroll offset clamped to the new size repaints all).
"""

from __future__ import annotations

from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView


class SteadyScrollView(ScrollView):
    """A `ScrollView` that lays out for its virtual size only when sized by its content."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.styles.is_auto_height or self.styles.is_auto_width:
            self.refresh(layout=True)
            return
        # Textual's own update of the scrollbars on a resize: their windows,
        # their visibility (which lays out when it changes) and the offsets.
        self._scroll_update(size)

    def repaint_lines(self, y: int, count: int = 1) -> None:
        """Repaint ``count`` lines from virtual line ``y``, and not the scrollbars beside them.

        Textual's `refresh_lines` marks the lines across the scrollbar too, and
        a scrollbar in a dirty region is rendered again whole.
        """
        self.refresh(Region(0, y - self.scroll_offset.y, self.scrollable_content_region.width, count))
