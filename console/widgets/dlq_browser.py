"""The dead-letter browser (after Sidekiq's Dead tab).

A table of letters (age, attempts, workflow/unit, error type, message,
fingerprint group, status) with ``/`` filter, ``f`` group by fingerprint,
``s``/``S`` sort by a column, ``space`` marks, ``y`` copies the letter as JSON, and a detail pane: payload as pretty JSON, traceback,
action history. Actions: ``r`` retry, ``R`` retry the marked (else the
filtered) rows after confirming the count, ``p`` replay, ``e`` edit the
payload then retry or replay, ``d`` discard with a reason. Every action goes
through `operate` (off the UI thread, refused under ``--readonly``); the
outcome shows when the engine's ``dlq.*`` events come back.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from console.commands import EngineCommands
from console.safe import safe_json, safe_text
from console.state import ago
from console.state.dlq import DlqView, LetterView

from .confirm_dialog import ConfirmDialog
from .operator import is_readonly, operate
from .payload_editor import PayloadEdit, PayloadEditor
from .reason_dialog import ReasonDialog
from .row_table import RowTable
from .table_keys import SORT_BINDINGS
from .table_sort import SortColumn, SortOrder
from .styling import RestyleOnStyleChange, component_style
from .static_text import show_text

ROW_LIMIT = 500
SORT_COLUMNS = [
    SortColumn("status", lambda x: x.status),
    SortColumn("age", lambda x: -(x.last_failure or 0.0)),
    SortColumn("attempts", lambda x: x.attempts),
    SortColumn("workflow / unit", lambda x: (x.workflow or "", x.unit)),
    SortColumn("error", lambda x: x.error_type),
    SortColumn("message", lambda x: x.error),
    SortColumn("group", lambda x: x.fingerprint),
]
_CHANGING = {"retry", "retry_bulk", "replay", "edit", "discard"}


class DlqBrowser(RestyleOnStyleChange, Vertical):
    """The ``:dlq`` view."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("f", "group", "Group by fingerprint"),
        *SORT_BINDINGS,
        Binding("space", "mark", "Mark"),
        Binding("r", "retry", "Retry"),
        Binding("R", "retry_bulk", "Retry marked/filtered"),
        Binding("p", "replay", "Replay"),
        Binding("e", "edit", "Edit payload"),
        Binding("d", "discard", "Discard"),
        Binding("escape", "close_filter", "Close filter", show=False),
    ]
    CHANGING_ACTIONS = _CHANGING
    COMPONENT_CLASSES = {
        "dlq--dead", "dlq--retrying", "dlq--resolved", "dlq--discarded", "dlq--marked", "dlq--muted",
        "dlq--heading",
    }

    # refresh_clock is sync: the drain skips it in a frame that synced the panel.
    CLOCK_IS_SYNC = True

    DEFAULT_CSS = """
    DlqBrowser { height: 1fr; }
    DlqBrowser .panel-summary { height: 1; padding: 0 1; background: $panel; }
    DlqBrowser #dlq-filter { height: 3; }
    DlqBrowser .panel-split { height: 1fr; }
    DlqBrowser #dlq-table { width: 1fr; height: 1fr; }
    DlqBrowser .panel-detail { width: 44; border-left: vkey $panel; padding: 0 1; background: $surface; }
    DlqBrowser > .dlq--dead { color: $error; text-style: bold; }
    DlqBrowser > .dlq--retrying { color: $warning; }
    DlqBrowser > .dlq--resolved { color: $success; }
    DlqBrowser > .dlq--discarded { color: $foreground-muted; }
    DlqBrowser > .dlq--marked { color: $accent; text-style: bold; }
    DlqBrowser > .dlq--muted { color: $foreground-muted; }
    DlqBrowser > .dlq--heading { color: $primary; text-style: bold; }
    """

    def __init__(self, state: DlqView, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-dlq")
        super().__init__(**kwargs)
        self.state = state
        self._fetching: set[str] = set()
        self.sort = SortOrder(SORT_COLUMNS)

    def compose(self) -> ComposeResult:
        yield Static("", id="dlq-summary", classes="panel-summary")
        yield Input(placeholder="filter: words, or field:value (workflow: unit: type: status: fp:)", id="dlq-filter")
        with Horizontal(classes="panel-split"):
            table = RowTable(id="dlq-table")
            table.add_columns("", "status", "age", "att", "workflow / unit", "error", "message", "group")
            yield table
            with VerticalScroll(id="dlq-detail", classes="panel-detail"):
                yield Static("", id="dlq-detail-body")

    def on_mount(self) -> None:
        self.query_one("#dlq-filter", Input).display = False
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#dlq-table", RowTable).focus()

    def refresh_clock(self) -> None:
        """Ages move with the clock: redraw once a second while shown."""
        self.sync()

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        """Redraw from the state, keeping the cursor on the same letter."""
        table = self.query_one("#dlq-table", RowTable)
        rows = self.sort.apply(self.state.rows())[:ROW_LIMIT]
        sizes = self.state.group_sizes()
        table.set_rows(
            [(x.id, self._cells(x, sizes[x.fingerprint])) for x in rows], self.selected_id()
        )
        self._draw_summary(len(rows))
        self._draw_detail()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    def _cells(self, letter: LetterView, group_size: int) -> list[Text]:
        status_style = self._style(f"dlq--{letter.status}") if letter.status in (
            "dead", "retrying", "resolved", "discarded") else ""
        mark = Text("●", style=self._style("dlq--marked")) if letter.id in self.state.marked else Text(" ")
        where = f"{letter.workflow or '-'} / {letter.unit}"
        group = f"{letter.fingerprint[:8] or '-'} ×{group_size}"
        return [
            mark,
            safe_text(letter.status, status_style, max_length=12),
            Text(ago(self.state.age(letter))),
            Text(str(letter.attempts)),
            safe_text(where, max_length=28),
            safe_text(letter.error_type, status_style, max_length=18),
            safe_text(letter.error, max_length=32),
            safe_text(group, self._style("dlq--muted")),
        ]

    def _draw_summary(self, shown: int) -> None:
        counts = self.state.counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("dead", "retrying", "resolved", "discarded")]
        line = Text(" · ".join(parts))
        line.append(f"   showing {shown}")
        if self.state.filter_text:
            line.append("   filter: ")
            line.append_text(safe_text(self.state.filter_text, max_length=60))
        if self.state.group_by_fingerprint:
            line.append("   grouped by fingerprint")
        if self.sort.describe():
            line.append(f"   {self.sort.describe()}")
        if self.state.marked:
            line.append(f"   {len(self.state.marked)} marked", style=self._style("dlq--marked"))
        show_text(self.query_one("#dlq-summary", Static), line)

    def selected_id(self) -> str | None:
        return self.query_one("#dlq-table", RowTable).cursor_key

    def selected(self) -> LetterView | None:
        letter_id = self.selected_id()
        return None if letter_id is None else self.state.letters.get(letter_id)

    def _draw_detail(self) -> None:
        body = self.query_one("#dlq-detail-body", Static)
        letter = self.selected()
        if letter is None:
            show_text(body, Text("No dead letter selected.", style=self._style("dlq--muted")))
            return
        if letter.id in self.state.stale and letter.id not in self._fetching:
            self._fetch(letter.id)
        heading = self._style("dlq--heading")
        out = Text()
        out.append("Letter ", style=heading)
        out.append_text(safe_text(letter.id))
        for label, value in (
            ("source", letter.source), ("workflow", letter.workflow), ("unit", letter.unit),
            ("status", letter.status), ("attempts", letter.attempts), ("run", letter.run_id),
            ("trace", letter.trace_id), ("version", letter.definition_version),
            ("fingerprint", letter.fingerprint),
        ):
            out.append(f"\n{label:>12}: ")
            out.append_text(safe_text("-" if value is None else value, max_length=200))
        out.append("\n\nError\n", style=heading)
        out.append_text(safe_text(f"{letter.error_type}: {letter.error}", multiline=True))
        out.append("\n\nPayload\n", style=heading)
        out.append_text(safe_json(letter.payload))
        out.append("\n\nTraceback\n", style=heading)
        out.append_text(safe_text(letter.traceback or "-", multiline=True))
        out.append("\n\nHistory\n", style=heading)
        if not letter.history:
            out.append("-")
        for entry in letter.history:
            line = f"{entry.get('action', '?')} by {entry.get('actor') or '-'}"
            if entry.get("reason"):
                line += f": {entry['reason']}"
            out.append_text(safe_text(line, max_length=300))
            out.append("\n")
        show_text(body, out)

    def _fetch(self, letter_id: str) -> None:
        """Read a letter's full record (payload, traceback, history) off the UI thread."""
        if getattr(self.app, "engine", None) is None:
            return
        self._fetching.add(letter_id)
        operate(self, "read dead letter", EngineCommands.dlq_record, letter_id, done=self._absorb, changes=False)

    def _absorb(self, record: Any) -> None:
        if isinstance(record, dict):
            self._fetching.discard(str(record.get("id")))
            if self.state.absorb(record):
                self._draw_detail()

    # -- events -----------------------------------------------------------

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        event.stop()
        self._draw_detail()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.state.set_filter(event.value)
        event.input.display = False
        self.query_one("#dlq-table", RowTable).focus()
        self.sync()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.state.set_filter(event.value)
        self.sync()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGING_ACTIONS and is_readonly(self):
            return False
        return True

    # -- actions ------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#dlq-filter", Input)
        box.display = True
        box.value = self.state.filter_text
        box.focus()

    def action_close_filter(self) -> None:
        box = self.query_one("#dlq-filter", Input)
        if box.display:
            box.display = False
            self.focus_main()
        else:
            # Escape keeps its app-wide meaning (back) when no filter is open.
            back = getattr(self.app, "action_back", None)
            if back is not None:
                back()

    def copy_text(self, widget: Any) -> str | None:
        """What ``y`` copies from the table: the selected dead letter as JSON."""
        letter = self.selected()
        if letter is None:
            return None
        return json.dumps(dataclasses.asdict(letter), indent=2, sort_keys=True, ensure_ascii=False, default=repr)

    def action_sort_next(self) -> None:
        self.sort.next()
        self.sync()

    def action_sort_reverse(self) -> None:
        self.sort.reverse()
        self.sync()

    def action_group(self) -> None:
        self.state.group_by_fingerprint = not self.state.group_by_fingerprint
        self.sync()

    def action_mark(self) -> None:
        letter_id = self.selected_id()
        if letter_id is None:
            return
        self.state.toggle_mark(letter_id)
        table = self.query_one("#dlq-table", RowTable)
        row = table.cursor_row
        self.sync()
        if row + 1 < table.row_count:
            table.move_cursor(row=row + 1, animate=False)

    def action_retry(self) -> None:
        letter = self.selected()
        if letter is not None:
            operate(self, f"retry {letter.id}", EngineCommands.dlq_retry, letter.id)

    def action_retry_bulk(self) -> None:
        targets = self.state.bulk_targets()
        if not targets:
            self.app.notify("Nothing to retry: no marked or filtered dead letters.", markup=False)
            return
        which = "marked" if self.state.marked else "filtered"
        question = f"Retry {len(targets)} {which} dead letter{'s' if len(targets) != 1 else ''}?"

        def answered(yes: bool | None) -> None:
            if yes:
                operate(self, f"retry {len(targets)} letters", EngineCommands.dlq_retry_many, list(targets))
                self.state.marked.clear()
                self.sync()

        if not is_readonly(self):
            self.app.push_screen(ConfirmDialog(question, confirm_label=f"Retry {len(targets)}"), answered)

    def action_replay(self) -> None:
        letter = self.selected()
        if letter is not None:
            operate(self, f"replay {letter.id}", EngineCommands.dlq_replay, letter.id)

    def action_edit(self) -> None:
        letter = self.selected()
        if letter is None or is_readonly(self):
            return

        def edited(result: PayloadEdit | None) -> None:
            if result is None:
                return
            command = EngineCommands.dlq_edit_and_retry if result.then == "retry" else EngineCommands.dlq_edit_and_replay
            operate(self, f"edit and {result.then} {letter.id}", command, letter.id, result.payload)

        self.app.push_screen(PayloadEditor(letter.id, letter.payload), edited)

    def action_discard(self) -> None:
        letter = self.selected()
        if letter is None or is_readonly(self):
            return

        def reasoned(reason: str | None) -> None:
            if reason:
                operate(self, f"discard {letter.id}", EngineCommands.dlq_discard, letter.id, reason)

        self.app.push_screen(ReasonDialog(f"Discard dead letter {letter.id}: why?"), reasoned)
