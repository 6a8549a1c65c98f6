"""The metrics panel: counters and gauges with sparklines, histograms with
p50/p90/p99, and the worker pool's queue depth per worker, busy workers and
steals per second. While shown it reads the collector's ``collect()`` once
a second (the app's clock tick) off the UI thread (metrics have no event
per change).

The body is one `TextPane`: every sparkline moves each second, but only
the lines on screen are rendered, a series that appears lays out nothing,
and the pane stays where the operator scrolled it.
Read-only: no actions.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.commands import EngineCommands
from console.safe import safe_text
from console.state import duration
from console.state.metrics import MetricsPanelState, Series

from .breaker_board import sparkline
from .operator import operate
from .styling import RestyleOnStyleChange, component_style
from .static_text import show_text
from .text_pane import TextPane

SPARK = 24
NAME_WIDTH = 44
# A body narrower than this (a terminal of about 80 columns) gets narrower names and sparklines.
WIDE = 80
SERIES_LIMIT = 200


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e12:
        return f"{int(value)}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


class MetricsPanel(RestyleOnStyleChange, Vertical):
    """The ``:metrics`` view."""

    COMPONENT_CLASSES = {"metrics--spark", "metrics--heading", "metrics--muted", "metrics--busy"}
    can_focus = True
    DEFAULT_CSS = """
    MetricsPanel { height: 1fr; }
    MetricsPanel .panel-summary { height: 1; padding: 0 1; background: $panel; }
    MetricsPanel #metrics-body { height: 1fr; padding: 0 1; }
    MetricsPanel > .metrics--spark { color: $primary; }
    MetricsPanel > .metrics--heading { color: $primary; text-style: bold; }
    MetricsPanel > .metrics--muted { color: $foreground-muted; }
    MetricsPanel > .metrics--busy { color: $accent; text-style: bold; }
    """

    def __init__(self, state: MetricsPanelState, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-metrics")
        super().__init__(**kwargs)
        self.state = state
        self._polling = False
        # A read of the collector is waiting to be drawn.
        self._collected = False
        # Series name and sparkline widths, measured once per redraw.
        self._name_width, self._spark_width = NAME_WIDTH, SPARK
        self._body_width = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="metrics-summary", classes="panel-summary")
        yield TextPane(id="metrics-body")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#metrics-body", TextPane).focus()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    def refresh_clock(self) -> None:
        """Called once a frame while the panel is shown: draw what the last read brought, read again.

        A read's result waits for the next frame rather than drawing at once,
        so the panel is drawn once a frame, not once for the events and once
        more for the read; a frame that drew the panel for its events drew
        the read's result with them.
        """
        if self._collected:
            self.sync()
        if self._polling or getattr(self.app, "engine", None) is None:
            return
        self._polling = True
        operate(self, "read metrics", EngineCommands.metrics_families, done=self._absorb, failed=self._poll_failed, changes=False)

    def _poll_failed(self, error: BaseException) -> None:
        self._polling = False

    def _absorb(self, families: Any) -> None:
        try:
            if isinstance(families, list) and self.state.apply_collect(families):
                self._collected = True
        finally:
            self._polling = False

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        self._collected = False
        self._name_width, self._spark_width = self._widths()
        counters = self.state.of_kind("counter")[:SERIES_LIMIT]
        gauges = self.state.of_kind("gauge")[:SERIES_LIMIT]
        histograms = self.state.of_kind("histogram")[:SERIES_LIMIT]
        show_text(self.query_one("#metrics-summary", Static), Text(
            f"{len(counters)} counters  {len(gauges)} gauges  {len(histograms)} histograms  "
            f"{len(self.state.pools)} pools"
        ))
        # A blank line after each section, as the sections' margins were.
        body = Text("\n").join([
            self._pool_text(),
            self._series_text("Counters", counters, "value", "rate/s sparkline"),
            self._series_text("Gauges", gauges, "value", "sparkline"),
            self._histogram_text(histograms),
        ])
        self.query_one("#metrics-body", TextPane).show(body, keep_scroll=True)

    def _heading(self, out: Text, title: str) -> None:
        out.append(f"{title}\n", style=self._style("metrics--heading"))

    def on_resize(self) -> None:
        self.sync()

    def _widths(self) -> tuple[int, int]:
        """Series name and sparkline widths: narrower when the body is under WIDE columns."""
        width = self.query_one("#metrics-body", TextPane).scrollable_content_region.width
        self._body_width = width
        if width <= 0 or width >= WIDE:
            return NAME_WIDTH, SPARK
        return max(12, min(NAME_WIDTH, width - 40)), SPARK // 2

    def _spark(self, out: Text, values: list[float]) -> None:
        out.append("".join(c for c, _ in sparkline(values, self._spark_width)), style=self._style("metrics--spark"))

    def _series_label(self, out: Text, series: Series) -> None:
        name_width = self._name_width
        out.append_text(safe_text(series.key.ljust(name_width), max_length=name_width))

    def _series_text(self, title: str, series: list[Series], value_label: str, spark_label: str) -> Text:
        out = Text()
        self._heading(out, title)
        if not series:
            out.append("-\n", style=self._style("metrics--muted"))
            return out
        out.append(f"{'series':<{self._name_width}} {value_label:>10}  {spark_label}\n", style=self._style("metrics--muted"))
        for item in series:
            self._series_label(out, item)
            out.append(f" {_number(item.value):>10}  ")
            self._spark(out, list(item.history))
            if item.kind == "counter" and item.history:
                out.append(f" {item.history[-1]:.1f}/s")
            out.append("\n")
        return out

    def _histogram_text(self, series: list[Series]) -> Text:
        out = Text()
        self._heading(out, "Histograms")
        if not series:
            out.append("-\n", style=self._style("metrics--muted"))
            return out
        out.append(f"{'series':<{self._name_width}} {'count':>8} {'p50':>9} {'p90':>9} {'p99':>9}\n",
                   style=self._style("metrics--muted"))
        for item in series:
            summary = item.summary
            self._series_label(out, item)
            count = summary.get("count")
            out.append(f" {_number(count if isinstance(count, (int, float)) else None):>8}")
            for q in ("p50", "p90", "p99"):
                value = summary.get(q)
                text = duration(value) if "seconds" in item.name and isinstance(value, (int, float)) else (
                    _number(value) if isinstance(value, (int, float)) else "-")
                out.append(f" {text:>9}")
            out.append("\n")
        return out

    def _pool_text(self) -> Text:
        out = Text()
        self._heading(out, "Worker pools")
        if not self.state.pools:
            out.append("-\n", style=self._style("metrics--muted"))
            return out
        for pool in sorted(self.state.pools.values(), key=lambda p: p.name):
            out.append_text(safe_text(pool.name, max_length=30))
            workers = "-" if pool.workers is None else _number(pool.workers)
            out.append("  busy ")
            out.append(f"{_number(pool.busy)}/{workers}", style=self._style("metrics--busy"))
            steals = "-" if pool.steals_per_second is None else f"{pool.steals_per_second:.1f}"
            out.append(f"  steals/s {steals} ")
            self._spark(out, list(pool.steals_history))
            out.append("\n  queue depth per worker:")
            # The pane does not wrap: a worker that would not fit starts a line of its own.
            line = len("  queue depth per worker:")
            peak = max(pool.queue_depths.values(), default=0.0) or 1.0
            for worker, depth in sorted(pool.queue_depths.items(), key=lambda kv: _worker_order(kv[0])):
                entry = Text("  ")
                entry.append_text(safe_text(worker, max_length=12))
                entry.append(" ")
                entry.append("█" * max(0, round(depth / peak * 8)) or "·", style=self._style("metrics--spark"))
                entry.append(f" {_number(depth)}")
                if self._body_width and line + entry.cell_len > self._body_width:
                    out.append("\n  ")
                    line = 2
                out.append_text(entry)
                line += entry.cell_len
            out.append("\n")
        return out


def _worker_order(worker: str) -> tuple[int, str]:
    return (int(worker), "") if worker.isdigit() else (1 << 30, worker)
