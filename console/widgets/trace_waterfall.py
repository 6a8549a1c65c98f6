"""The traces panel (after Jaeger).

Top: the runs that have finished spans (pick one). Below: the run's
waterfall: spans as a tree (indented), kind, duration, a bar on one time
axis shared by the whole run, and an error mark. ``enter`` on a span shows
its attributes, events and links below; ``c`` highlights the critical path;
``l`` follows the selected span's first link to the run holding the linked
trace (a replayed dead letter's span links to the original). Read-only.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.safe import safe_json, safe_text
from console.state import duration
from console.state.traces import SpanView, TraceView, WaterfallRow

from .row_table import RowTable
from .styling import RestyleOnStyleChange, component_style
from .static_text import show_text

BAR_WIDTH = 34
ROW_LIMIT = 1_000


class TraceWaterfall(RestyleOnStyleChange, Vertical):
    """The ``:trace`` view."""

    BINDINGS = [
        Binding("c", "critical", "Critical path"),
        Binding("l", "follow_link", "Follow link"),
        Binding("enter", "details", "Span details", show=False),
    ]
    COMPONENT_CLASSES = {"trace--bar", "trace--critical", "trace--error", "trace--muted", "trace--heading"}

    DEFAULT_CSS = """
    TraceWaterfall { height: 1fr; }
    TraceWaterfall .panel-summary { height: 1; padding: 0 1; background: $panel; }
    TraceWaterfall #trace-runs { height: auto; max-height: 6; border-bottom: hkey $panel; }
    TraceWaterfall #trace-spans { height: 2fr; }
    TraceWaterfall .panel-detail { height: 1fr; border-top: hkey $panel; padding: 0 1; background: $surface; }
    TraceWaterfall > .trace--bar { color: $primary; }
    TraceWaterfall > .trace--critical { color: $accent; text-style: bold; }
    TraceWaterfall > .trace--error { color: $error; text-style: bold; }
    TraceWaterfall > .trace--muted { color: $foreground-muted; }
    TraceWaterfall > .trace--heading { color: $primary; text-style: bold; }
    """

    def __init__(self, state: TraceView, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-trace")
        super().__init__(**kwargs)
        self.state = state
        self.run_key: str | None = None
        self.show_critical = False
        self.detail_span: str | None = None
        self._rows: list[WaterfallRow] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="trace-summary", classes="panel-summary")
        runs = RowTable(id="trace-runs")
        runs.add_columns("run", "workflow", "spans", "errors", "took")
        yield runs
        spans = RowTable(id="trace-spans")
        spans.add_columns("", "span", "kind", "took", "timeline")
        yield spans
        with VerticalScroll(id="trace-detail", classes="panel-detail"):
            yield Static("", id="trace-detail-body")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#trace-runs", RowTable).focus()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        runs_table = self.query_one("#trace-runs", RowTable)
        runs = self.state.run_list()
        if self.run_key not in self.state.runs:
            self.run_key = runs[0].key if runs else None
        rows = []
        for run in runs:
            errors = Text(f"✕ {run.errors}" if run.errors else "", style=self._style("trace--error"))
            rows.append((run.key, [
                safe_text(run.key, max_length=24), safe_text(run.workflow or "-", max_length=24),
                Text(str(len(run.spans))), errors, Text(duration(run.end - run.start)),
            ]))
        # Only the operator's moves pick a run: set_rows posts no highlight.
        runs_table.set_rows(rows, self.run_key)
        self._draw_waterfall()

    def _draw_waterfall(self) -> None:
        spans_table = self.query_one("#trace-spans", RowTable)
        selected = self.selected_span()
        self._rows = self.state.waterfall(self.run_key)[:ROW_LIMIT] if self.run_key else []
        rows = [(row.span.span_id, self._cells(row)) for row in self._rows]
        run = self.state.runs.get(self.run_key) if self.run_key else None
        keep = selected.span_id if selected is not None and run is not None and selected.span_id in run.spans else None
        spans_table.set_rows(rows, keep)
        summary = Text()
        if run is None:
            summary.append("No traces yet.")
        else:
            summary.append("run ")
            summary.append_text(safe_text(run.key, max_length=40))
            summary.append(f"   {len(run.spans)} spans   {duration(run.end - run.start)}")
            if run.errors:
                summary.append(f"   {run.errors} errors", style=self._style("trace--error"))
            if self.show_critical:
                summary.append("   critical path highlighted", style=self._style("trace--critical"))
            if run.dropped:
                summary.append(f"   {run.dropped} spans not kept")
        show_text(self.query_one("#trace-summary", Static), summary)
        self._draw_detail()

    def _cells(self, row: WaterfallRow) -> list[Text]:
        span = row.span
        critical = self.show_critical and row.critical
        name_style = self._style("trace--critical") if critical else ""
        name = Text("  " * row.depth)
        name.append_text(safe_text(span.name, name_style, max_length=28))
        start = min(BAR_WIDTH - 1, int(row.offset * BAR_WIDTH))
        width = max(1, round(row.width * BAR_WIDTH))
        width = min(width, BAR_WIDTH - start)
        bar_style = self._style("trace--error" if span.error else "trace--critical" if critical else "trace--bar")
        bar = Text(" " * start)
        bar.append("█" * width, style=bar_style)
        bar.append(" " * (BAR_WIDTH - start - width))
        mark = Text("✕" if span.error else "", style=self._style("trace--error"))
        return [mark, name, safe_text(span.kind, max_length=10), Text(duration(span.duration)), bar]

    def selected_span(self) -> SpanView | None:
        table = self.query_one("#trace-spans", RowTable)
        if not self._rows:
            return None
        return self._rows[min(max(0, table.cursor_row), len(self._rows) - 1)].span

    def _draw_detail(self) -> None:
        body = self.query_one("#trace-detail-body", Static)
        run = self.state.runs.get(self.run_key) if self.run_key else None
        span = run.spans.get(self.detail_span) if run and self.detail_span else None
        if span is None:
            show_text(body, Text("enter: span attributes, events and links", style=self._style("trace--muted")))
            return
        heading = self._style("trace--heading")
        out = Text()
        out.append("Span ", style=heading)
        out.append_text(safe_text(span.name, max_length=80))
        out.append(f"  {span.kind}  {duration(span.duration)}  status ")
        out.append_text(safe_text(span.status, self._style("trace--error") if span.error else ""))
        if span.status_message:
            out.append(": ")
            out.append_text(safe_text(span.status_message, max_length=200))
        out.append("\ntrace ")
        out.append_text(safe_text(span.trace_id))
        out.append("  span ")
        out.append_text(safe_text(span.span_id))
        out.append("\n\nAttributes\n", style=heading)
        out.append_text(safe_json(dict(span.attributes)))
        out.append("\n\nEvents\n", style=heading)
        if not span.events:
            out.append("-")
        for item in span.events:
            out.append_text(safe_text(_one_line(item), max_length=300))
            out.append("\n")
        out.append("\n\nLinks\n", style=heading)
        if not span.links:
            out.append("-")
        for link in span.links:
            target = link.get("trace_id") if isinstance(link, dict) else None
            held = self.state.run_for_trace(str(target)) if target else None
            out.append_text(safe_text(_one_line(link), max_length=300))
            out.append("  (l: open run " if held else "  (trace not kept)", style=self._style("trace--muted"))
            if held:
                out.append_text(safe_text(held, self._style("trace--muted"), max_length=40))
                out.append(")", style=self._style("trace--muted"))
            out.append("\n")
        show_text(body, out)

    # -- events and actions ------------------------------------------------

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        event.stop()
        if event.table.id == "trace-runs" and event.row_key is not None:
            key = event.row_key
            if key != self.run_key:
                self.run_key = key
                self.detail_span = None
                self._draw_waterfall()

    def on_row_table_row_selected(self, event: RowTable.RowSelected) -> None:
        event.stop()
        if event.table.id == "trace-spans":
            self.action_details()
        else:
            self.query_one("#trace-spans", RowTable).focus()

    def action_details(self) -> None:
        span = self.selected_span()
        self.detail_span = None if span is None else span.span_id
        self._draw_detail()

    def action_critical(self) -> None:
        self.show_critical = not self.show_critical
        self._draw_waterfall()

    def action_follow_link(self) -> None:
        span = self.selected_span()
        links = [l for l in (span.links if span else []) if isinstance(l, dict) and l.get("trace_id")]
        if not links:
            self.app.notify("The selected span has no links.", severity="warning", markup=False)
            return
        key = self.state.run_for_trace(str(links[0]["trace_id"]))
        if key is None:
            self.app.notify("The linked trace is no longer kept.", severity="warning", markup=False)
            return
        self.run_key = key
        self.detail_span = str(links[0].get("span_id"))
        self.sync()


def _one_line(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)
