"""The event log's rows: a cursor over the filtered events, drawn line by line.

Only the visible lines are rendered (`render_line`), so a log of thousands
of events costs the same as a screenful, and new rows lay out nothing
(`SteadyScrollView`). With the cursor on the last row
the list follows new events; moving up stops following, ``end`` resumes.
"""

from __future__ import annotations

import json

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from ..safe import visible
from engine import Event

from ..state.events_log import EventsLogState, clock_text, summarise
from .steady_scroll import SteadyScrollView
from .table_keys import NAV_BINDINGS, TableKeys


# Lines kept rendered: a few screens' worth, rebuilt from scratch when full.
_LINE_CACHE = 2_000


class EventRows(TableKeys, SteadyScrollView, can_focus=True):
    """The filtered log with a selected row."""

    COMPONENT_CLASSES = {"events--time", "events--cursor", "events--error", "events--workflow"}
    # Lines are cut at the width: a horizontal scrollbar would only come and
    # go (each time laying out the screen) as the vertical one does.
    DEFAULT_CSS = "EventRows { overflow-x: hidden; }"

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Follow", show=False),
        *NAV_BINDINGS,
    ]

    class Selected(Message):
        """The entry under the cursor changed."""

        def __init__(self, event: Event | None) -> None:
            super().__init__()
            self.event = event

    def __init__(self, state: EventsLogState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.cursor = -1
        self.follow = True
        self._selected: Event | None = None
        self._styles: tuple[Style, Style, Style, Style] | None = None
        # id(event) -> (event, its line); the event is kept to tell a reused id.
        self._lines: dict[int, tuple[Event, Strip]] = {}
        # What the screen shows: (rows object, row count, rebuilds of the state).
        self._drawn: tuple[object, int, int] = (None, 0, -1)

    @property
    def selected(self) -> Event | None:
        return self._selected

    def sync(self) -> None:
        """Show what the log holds now, redrawing only the lines that changed.

        New events at the end of an unchanged log (the usual case) are an
        append: the lines already drawn stay, and a log that is not followed
        or not yet full redraws only the new lines and the cursor's.
        """
        rows = self.state.rows
        count = len(rows)
        drawn_rows, drawn_count, drawn_rebuilds = self._drawn
        appended = (
            rows is drawn_rows and drawn_rebuilds == self.state.rebuilds
            and drawn_count <= count < self.state.capacity
        )
        self._drawn = (rows, count, self.state.rebuilds)
        old_cursor = self.cursor
        if self.follow or self.cursor >= count:
            self.cursor = count - 1
        self._grow(count)
        self._announce()
        if not appended:
            if self.follow:
                self.scroll_end(animate=False, immediate=False)
            self.refresh()
            return
        if count == drawn_count:
            return
        if self.follow and count > self.scrollable_content_region.height:
            # Every line moves up: scrolling repaints this widget (and nothing
            # else), in this frame: its height is already set, nothing waits for layout.
            self.scroll_end(animate=False, immediate=True)
            return
        self.repaint_lines(drawn_count, count - drawn_count)
        if old_cursor != self.cursor and old_cursor >= 0:
            self.repaint_lines(old_cursor)

    def _grow(self, count: int) -> None:
        """Set the scrollable height to ``count`` lines without a layout of the screen.

        Assigning ``virtual_size`` lays out the whole screen (it is a layout
        reactive), at every drain that brought an event; only the scrollbars
        depend on it here, so they are updated alone.
        """
        size = Size(self.size.width, count)
        if size == self.virtual_size:
            return
        self.set_reactive(EventRows.virtual_size, size)
        self._scroll_update(size)

    def _follow_end(self) -> None:
        if self.follow:
            self.scroll_end(animate=False, immediate=True)

    def _announce(self) -> None:
        rows = self.state.rows
        entry = rows[self.cursor] if 0 <= self.cursor < len(rows) else None
        if entry is not self._selected:
            self._selected = entry
            self.post_message(self.Selected(entry))

    def action_cursor(self, step: int) -> None:
        count = len(self.state.rows)
        if not count:
            return
        self.cursor = max(0, min(count - 1, self.cursor + step))
        self.follow = self.cursor == count - 1
        self._announce()
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False)
        self.refresh()

    def action_first(self) -> None:
        self.action_cursor(-len(self.state.rows))

    def action_last(self) -> None:
        self.action_cursor(len(self.state.rows))

    # The shared table keys; ``y`` copies the selected event as JSON.

    def nav_count(self) -> int:
        return len(self.state.rows)

    def nav_index(self) -> int:
        return self.cursor

    def nav_go(self, index: int) -> None:
        self.action_cursor(index - self.cursor)

    def nav_page(self) -> int:
        return max(1, self.size.height)

    def nav_key(self) -> str | None:
        event = self._selected
        return None if event is None else json.dumps(event.to_dict(), sort_keys=True, ensure_ascii=False, default=repr)

    def notify_style_update(self) -> None:
        self._styles = None
        self._lines.clear()
        super().notify_style_update()

    def _line_styles(self) -> tuple[Style, Style, Style, Style]:
        """(base, time, error, cursor) styles, looked up once per change of style."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("events--time"),
                base + self.get_component_rich_style("events--error"),
                base + self.get_component_rich_style("events--cursor"),
            )
        return self._styles

    def _line(self, event: Event) -> Strip:
        """The whole line of ``event``, made once: scrolling moves lines, it does not change them."""
        cached = self._lines.get(id(event))
        if cached is not None and cached[0] is event:
            return cached[1]
        base, time_style, error_style, _ = self._line_styles()
        line_style = error_style if "fail" in event.type or "error" in event.type else base
        strip = Strip([
            Segment(clock_text(event.ts) + "  ", time_style),
            Segment(visible(summarise(event), max_length=2000), line_style),
        ])
        if len(self._lines) >= _LINE_CACHE:
            self._lines.clear()
        self._lines[id(event)] = (event, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        base, _, _, cursor_style = self._line_styles()
        rows = self.state.rows
        if index >= len(rows):
            return Strip.blank(width, base)
        strip = self._line(rows[index])
        if index == self.cursor:
            return strip.apply_style(cursor_style).crop_extend(scroll_x, scroll_x + width, cursor_style)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
