"""The sagas panel.

Left: each saga run (saga, run id, status, age, failed step); a run stuck in
``COMPENSATION_FAILED`` is listed first and drawn in the error style. Right,
for the selected run: its steps (forward status, compensation status,
duration, error) and the compensation log in the order compensations ran,
with errors. ``s``/``S`` sort the runs by a column, ``y`` copies the
selected run's id. Actions on a stuck run: ``c`` retry its failed compensations
(confirmed), ``m`` mark it compensated (a reason is required and recorded).
Both go through the engine's API off the UI thread and are refused under
``--readonly``; the outcome shows when the ``saga.*`` events come back.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.commands import EngineCommands
from console.safe import safe_text
from console.state import ago, count, duration
from console.state.sagas import SagaRunView, SagaView

from .confirm_dialog import ConfirmDialog
from .fsm_panel import clock_text
from .operator import is_readonly, operate
from .reason_dialog import ReasonDialog
from .row_table import RowTable
from .table_keys import SORT_BINDINGS
from .table_sort import SortColumn, SortOrder
from .styling import RestyleOnStyleChange, component_style
from .static_text import show_text

ROW_LIMIT = 500
SORT_COLUMNS = [
    SortColumn("status", lambda r: ("COMPENSATION_FAILED" if r.stuck else r.status)),
    SortColumn("saga", lambda r: r.saga),
    SortColumn("run", lambda r: r.run_id),
    SortColumn("age", lambda r: -r.started),
    SortColumn("failed step", lambda r: r.failed_step or ""),
    SortColumn("error", lambda r: r.error or ""),
]
_CHANGING = {"retry_compensation", "mark_compensated"}
_STATUS_CLASS = {
    "compensation_failed": "saga--stuck", "compensating": "saga--compensating", "running": "saga--running",
    "completed": "saga--completed", "compensated": "saga--compensated", "failed": "saga--failed",
}


class SagaPanel(RestyleOnStyleChange, Vertical):
    """The ``:saga`` view."""

    BINDINGS = [
        Binding("c", "retry_compensation", "Retry compensation"),
        Binding("m", "mark_compensated", "Mark compensated"),
        *SORT_BINDINGS,
    ]
    CHANGING_ACTIONS = _CHANGING
    COMPONENT_CLASSES = {
        "saga--stuck", "saga--compensating", "saga--running", "saga--completed", "saga--compensated",
        "saga--failed", "saga--muted", "saga--heading",
    }

    # refresh_clock is sync: the drain skips it in a frame that synced the panel.
    CLOCK_IS_SYNC = True

    DEFAULT_CSS = """
    SagaPanel { height: 1fr; }
    SagaPanel .panel-summary { height: 1; padding: 0 1; background: $panel; }
    SagaPanel .panel-split { height: 1fr; }
    SagaPanel #saga-table { height: 1fr; max-height: 12; }
    SagaPanel .panel-detail { height: 2fr; border-top: hkey $panel; padding: 0 1; background: $surface; }
    SagaPanel > .saga--stuck { color: $error; text-style: bold reverse; }
    SagaPanel > .saga--compensating { color: $warning; }
    SagaPanel > .saga--running { color: $primary; }
    SagaPanel > .saga--completed { color: $success; }
    SagaPanel > .saga--compensated { color: $secondary; }
    SagaPanel > .saga--failed { color: $error; }
    SagaPanel > .saga--muted { color: $foreground-muted; }
    SagaPanel > .saga--heading { color: $primary; text-style: bold; }
    """

    def __init__(self, state: SagaView, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-saga")
        super().__init__(**kwargs)
        self.state = state
        self.sort = SortOrder(SORT_COLUMNS)

    def compose(self) -> ComposeResult:
        yield Static("", id="saga-summary", classes="panel-summary")
        with Vertical(classes="panel-split"):
            table = RowTable(id="saga-table")
            table.add_columns("status", "saga", "run", "age", "failed step", "error")
            yield table
            with VerticalScroll(id="saga-detail", classes="panel-detail"):
                yield Static("", id="saga-detail-body")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#saga-table", RowTable).focus()

    def refresh_clock(self) -> None:
        """Ages move with the clock: redraw once a second while shown."""
        self.sync()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    def _status_style(self, status: str) -> Any:
        name = _STATUS_CLASS.get(status)
        return self._style(name) if name else ""

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        table = self.query_one("#saga-table", RowTable)
        current = self.selected()
        rows = []
        for run in self.sort.apply(self.state.rows())[:ROW_LIMIT]:
            status = "COMPENSATION_FAILED" if run.stuck else run.status
            rows.append((run.run_id, [
                Text(("⚠ " if run.stuck else "") + status, style=self._status_style(run.status)),
                safe_text(run.saga, max_length=24),
                safe_text(run.run_id, max_length=16),
                Text(ago(self.state.age(run))),
                safe_text(run.failed_step or "-", max_length=24),
                safe_text(run.error or "", max_length=40),
            ]))
        table.set_rows(rows, None if current is None else current.run_id)
        summary = Text(count(len(self.state.runs), "saga run"))
        stuck = self.state.stuck_count()
        if stuck:
            summary.append(f"   ⚠ {stuck} stuck in COMPENSATION_FAILED", style=self._style("saga--stuck"))
        if self.sort.describe():
            summary.append(f"   {self.sort.describe()}")
        show_text(self.query_one("#saga-summary", Static), summary)
        self._draw_detail()

    def selected(self) -> SagaRunView | None:
        table = self.query_one("#saga-table", RowTable)
        key = table.cursor_key
        return None if key is None else self.state.runs.get(key)

    def _draw_detail(self) -> None:
        body = self.query_one("#saga-detail-body", Static)
        run = self.selected()
        if run is None:
            show_text(body, Text("No saga runs yet.", style=self._style("saga--muted")))
            return
        heading = self._style("saga--heading")
        out = Text()
        out.append("Saga ", style=heading)
        out.append_text(safe_text(f"{run.saga}  run {run.run_id}", max_length=100))
        out.append("  ")
        out.append(run.status.upper(), style=self._status_style(run.status))
        if run.error:
            out.append("\nfailed: ")
            out.append_text(safe_text(run.error, max_length=300))
        if run.stuck:
            out.append(
                "\nA compensation failed for good: press c to retry it, or m to mark the run compensated.",
                style=self._style("saga--stuck"),
            )
        if run.marked_reason:
            out.append("\nmarked compensated by ")
            out.append_text(safe_text(run.marked_by or "-", max_length=40))
            out.append(": ")
            out.append_text(safe_text(run.marked_reason, max_length=300))
        out.append("\n\nSteps\n", style=heading)
        out.append(f"{'step':<22}{'forward':<12}{'compensation':<14}{'took':>9}\n", style=self._style("saga--muted"))
        for step in run.steps.values():
            out.append_text(safe_text(step.name, max_length=20))
            out.append(" " * max(1, 22 - min(20, len(step.name))))
            out.append(f"{step.forward:<12}", style=self._status_style(step.forward))
            comp_style = self._style("saga--stuck") if step.compensation == "failed" else ""
            out.append(f"{step.compensation or '-':<14}", style=comp_style)
            out.append(f"{duration(step.duration):>9}")
            if step.error:
                out.append("\n    ")
                out.append_text(safe_text(step.error, max_length=200))
            if step.compensation_error:
                out.append("\n    compensation: ")
                out.append_text(safe_text(step.compensation_error, comp_style, max_length=200))
            out.append("\n")
        out.append("\nCompensation log\n", style=heading)
        if not run.log:
            out.append("-")
        for entry in run.log:
            out.append(clock_text(entry.time) + "  ", style=self._style("saga--muted"))
            out.append_text(safe_text(entry.step, max_length=30))
            style = self._style("saga--stuck") if entry.outcome == "failed" else ""
            out.append(f"  {entry.outcome}", style=style)
            if entry.attempt is not None:
                out.append(f" (attempt {entry.attempt})")
            if entry.error or entry.error_type:
                out.append(": ")
                out.append_text(safe_text(
                    f"{entry.error_type + ': ' if entry.error_type else ''}{entry.error or ''}", max_length=200
                ))
            out.append("\n")
        show_text(body, out)

    # -- events and actions ------------------------------------------------

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        event.stop()
        self._draw_detail()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGING_ACTIONS and is_readonly(self):
            return False
        return True

    def _stuck_run(self) -> SagaRunView | None:
        run = self.selected()
        if run is None or not run.stuck:
            self.app.notify("Select a saga run stuck in COMPENSATION_FAILED.", severity="warning", markup=False)
            return None
        return run

    def action_retry_compensation(self) -> None:
        run = self._stuck_run()
        if run is None or is_readonly(self):
            return
        steps = ", ".join(run.failed_compensations()) or "the failed compensations"

        def answered(yes: bool | None) -> None:
            if yes:
                operate(self, f"retry compensation of {run.run_id}", EngineCommands.saga_retry_compensation, run.saga, run.run_id)

        self.app.push_screen(ConfirmDialog(f"Retry {steps} of saga {run.saga} run {run.run_id}?"), answered)

    def action_mark_compensated(self) -> None:
        run = self._stuck_run()
        if run is None or is_readonly(self):
            return

        def reasoned(reason: str | None) -> None:
            if reason:
                operate(self, f"mark {run.run_id} compensated", EngineCommands.saga_mark_compensated, run.saga, run.run_id, reason)

        self.app.push_screen(ReasonDialog(f"Mark saga {run.saga} run {run.run_id} compensated: why?"), reasoned)

    def action_sort_next(self) -> None:
        self.sort.next()
        self.sync()

    def action_sort_reverse(self) -> None:
        self.sort.reverse()
        self.sync()
