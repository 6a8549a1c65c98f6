"""The events view's state: a capped live log with a regex filter and pause.

Every event is kept (up to `capacity`, oldest dropped first). The line that
represents an event is built only when needed: for the rows on screen, and
for new events while a filter is set (the filter is a regular expression
matched against that line). So a flood costs one deque append per event
unless a filter is on. While paused, new events are held aside (also
capped) and the shown list stays still; resuming appends them.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timezone
from typing import Any, Sequence

from engine import Clock, Event

CAPACITY = 5_000
_SUMMARY_FIELDS = 4


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:39] + "…"


def summarise(event: Event) -> str:
    """``type workflow run  key=value ...`` (unsafe: shown through safe display)."""
    parts = [event.type]
    if event.workflow:
        parts.append(event.workflow)
    if event.run_id:
        parts.append(event.run_id)
    items = list(event.data.items())[:_SUMMARY_FIELDS]
    parts.extend(f"{key}={_short(value)}" for key, value in items)
    if len(event.data) > _SUMMARY_FIELDS:
        parts.append("…")
    return "  ".join(parts)


def clock_text(ts: float) -> str:
    """``HH:MM:SS.mmm`` of an event's time, in UTC."""
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class FilterError(ValueError):
    """The filter text is not a valid regular expression."""


class EventsLogState:
    """The log (`events`), the filtered rows (`rows`), and the pause switch."""

    def __init__(self, clock: Clock, capacity: int = CAPACITY) -> None:
        self.clock = clock
        self.capacity = capacity
        self.events: deque[Event] = deque(maxlen=capacity)
        self.rows: deque[Event] = deque(maxlen=capacity)
        self.held: deque[Event] = deque(maxlen=capacity)
        self.paused = False
        self.pattern: re.Pattern[str] | None = None
        self.filter_text = ""
        self.version = 0
        # Counts the times `rows` was rebuilt rather than appended to.
        self.rebuilds = 0

    def apply(self, events: Sequence[Event]) -> bool:
        if not events:
            return False
        if self.paused:
            self.held.extend(events)
        else:
            self._add(events)
        self.version += 1
        return True

    def _add(self, events: Sequence[Event]) -> None:
        # Only the newest `capacity` can survive.
        if len(events) > self.capacity:
            events = events[-self.capacity :]
        self.events.extend(events)
        if self.pattern is None:
            # Unfiltered, the rows are the log itself.
            self.rows = self.events
            return
        search = self.pattern.search
        self.rows.extend(e for e in events if search(summarise(e)))

    def set_filter(self, text: str) -> None:
        """Show only events whose line matches the regex ``text`` ('' = all)."""
        if text:
            try:
                pattern = re.compile(text, re.IGNORECASE)
            except re.error as exc:
                raise FilterError(f"bad filter {text!r}: {exc}") from exc
        else:
            pattern = None
        self.pattern = pattern
        self.filter_text = text
        if pattern is None:
            self.rows = self.events
        else:
            self.rows = deque((e for e in self.events if pattern.search(summarise(e))), maxlen=self.capacity)
        self.rebuilds += 1
        self.version += 1

    def pause(self) -> None:
        self.paused = True
        self.version += 1

    def resume(self) -> None:
        """Show what arrived while paused, then follow live again."""
        self.paused = False
        held, self.held = list(self.held), deque(maxlen=self.capacity)
        self._add(held)
        self.version += 1
