"""The event log's rows: a cursor over the filtered events, drawn line by line.

Only the visible lines are rendered (`render_line`), so a log of thousands
of events costs the same as a screenful. With the cursor on the last row
the list follows new events; moving up stops following, ``end`` resumes.
"""

from __future__ import annotations

import json

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..safe import visible
from engine import Event

from ..state.events_log import EventsLogState, clock_text, summarise
from .table_keys import NAV_BINDINGS, TableKeys


class EventRows(TableKeys, ScrollView, can_focus=True):
    """The filtered log with a selected row."""

    COMPONENT_CLASSES = {"events--time", "events--cursor", "events--error", "events--workflow"}

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

    @property
    def selected(self) -> Event | None:
        return self._selected

    def sync(self) -> None:
        rows = self.state.rows
        count = len(rows)
        if self.follow or self.cursor >= count:
            self.cursor = count - 1
        self.virtual_size = Size(self.size.width, count)
        self._announce()
        if self.follow:
            # After the refresh (the new rows must be laid out first), and only
            # if still following: a key that moved the cursor meanwhile wins.
            self.call_after_refresh(self._follow_end)
        self.refresh()

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

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        base = self.rich_style
        rows = self.state.rows
        if index >= len(rows):
            return Strip.blank(width, base)
        event = rows[index]
        line_style = base
        if "fail" in event.type or "error" in event.type:
            line_style = base + self.get_component_rich_style("events--error")
        time_style = base + self.get_component_rich_style("events--time")
        segments = [
            Segment(clock_text(event.ts) + "  ", time_style),
            Segment(visible(summarise(event), max_length=2000), line_style),
        ]
        strip = Strip(segments)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("events--cursor"))
            return strip.crop_extend(scroll_x, scroll_x + width, base + self.get_component_rich_style("events--cursor"))
        return strip.crop_extend(scroll_x, scroll_x + width, base)
