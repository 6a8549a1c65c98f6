"""The events view: the live log, a ``/`` regex filter, pause, and detail.

``/`` opens the filter (a regular expression over the row text; enter
applies, an empty filter shows everything, esc closes it); ``u`` pauses and
resumes the log (events keep arriving and are shown on resume). The pane on
the right shows the selected event's full data.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from engine import Event

from ..safe import safe_json, safe_text
from ..state.events_log import EventsLogState, FilterError
from .event_rows import EventRows
from .text_pane import TextPane


class EventLogView(Vertical):
    """Status line, filter input, rows and the selected event's data."""

    BINDINGS = [
        Binding("slash", "open_filter", "Filter", key_display="/"),
        Binding("u", "toggle_pause", "Pause/resume"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]

    def __init__(self, state: EventsLogState) -> None:
        super().__init__(id="view-events")
        self.state = state
        self._status_shown: Text | None = None
        self._detail_shown: Event | None = None
        self._detail_due: Event | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="events-status")
        filter_input = Input(placeholder="filter: a regular expression, enter to apply, esc to close", id="events-filter")
        filter_input.cursor_blink = False
        yield filter_input
        yield EventRows(self.state, id="event-rows")
        yield TextPane(id="event-detail")

    @property
    def rows(self) -> EventRows:
        return self.query_one(EventRows)

    def focus_main(self) -> None:
        self.rows.focus()

    def sync(self) -> None:
        if not self.is_mounted:
            return
        self.rows.sync()
        self._show_status()

    def refresh_clock(self) -> None:
        """Once a second: the detail of the newest event, when following the log."""
        if self._detail_due is not None:
            self._show_detail(self._detail_due)

    def _show_status(self) -> None:
        state = self.state
        text = Text("Events", style="bold", end="")
        text.append(f"  {len(state.rows)} shown of {len(state.events)}")
        if state.filter_text:
            text.append("  filter /")
            text.append_text(safe_text(state.filter_text))
            text.append("/")
        if state.paused:
            text.append(f"  PAUSED ({len(state.held)} new, u resumes)", style="bold reverse")
        if text != self._status_shown:
            self._status_shown = text
            # One line high by its style: its size never changes, so no layout.
            self.query_one("#events-status", Static).update(text, layout=False)

    def on_event_rows_selected(self, message: EventRows.Selected) -> None:
        message.stop()
        if self.rows.follow and message.event is not None:
            # Following a live log, the newest event changes with every drain:
            # its detail is drawn on the clock tick, not for each one.
            self._detail_due = message.event
            return
        self._show_detail(message.event)

    def _show_detail(self, event: Event | None) -> None:
        self._detail_due = None
        if event is self._detail_shown and event is not None:
            return
        self._detail_shown = event
        self.query_one("#event-detail", TextPane).show("" if event is None else safe_json(event.to_dict()))

    # -- filter and pause -------------------------------------------------

    def action_open_filter(self) -> None:
        field = self.query_one("#events-filter", Input)
        field.value = self.state.filter_text
        field.add_class("open")
        field.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id != "events-filter":
            return
        message.stop()
        try:
            self.state.set_filter(message.value)
        except FilterError as exc:
            self.notify(str(exc), title="Filter", severity="error", markup=False)
            return
        self._close_filter()
        self.sync()

    def _close_filter(self) -> None:
        field = self.query_one("#events-filter", Input)
        field.remove_class("open")
        self.rows.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_filter":
            # Without an open filter, esc falls through to the app's "back".
            return self.query_one("#events-filter", Input).has_class("open")
        return True

    def action_close_filter(self) -> None:
        self._close_filter()

    def action_toggle_pause(self) -> None:
        if self.state.paused:
            self.state.resume()
        else:
            self.state.pause()
        self.sync()
