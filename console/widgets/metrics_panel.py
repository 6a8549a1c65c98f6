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

from typing import Any, Callable, NamedTuple

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.commands import EngineCommands
from console.safe import safe_text
from console.state import duration
from console.state.metrics import History, MetricsPanelState, PoolView, Series

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
        # Series name and sparkline widths, the body's width and the styles, measured once a sync.
        self._name_width, self._spark_width = NAME_WIDTH, SPARK
        self._body_width = 0
        self._palette = _Palette(Style.null(), Style.null(), Style.null(), Style.null())
        # The lines drawn for each series (and section heading) last sync, with
        # the state they show: drawn again only when that state changed.
        self._built: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Text]]] = {}
        self._reused: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Text]]] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="metrics-summary", classes="panel-summary")
        yield TextPane(id="metrics-body")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#metrics-body", TextPane).focus()

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
        self._measure()
        counters = self.state.of_kind("counter")[:SERIES_LIMIT]
        gauges = self.state.of_kind("gauge")[:SERIES_LIMIT]
        histograms = self.state.of_kind("histogram")[:SERIES_LIMIT]
        show_text(self.query_one("#metrics-summary", Static), Text(
            f"{len(counters)} counters  {len(gauges)} gauges  {len(histograms)} histograms  "
            f"{len(self.state.pools)} pools"
        ))
        self._built, self._reused = {}, self._built
        lines: list[Text] = []
        # A blank line after each section, as the sections' margins were.
        for section in (
            self._pool_lines(),
            self._series_lines("Counters", counters, "value", "rate/s sparkline"),
            self._series_lines("Gauges", gauges, "value", "sparkline"),
            self._histogram_lines(histograms),
        ):
            lines.extend(section)
            lines.append(_BLANK)
        self._reused = {}
        self.query_one("#metrics-body", TextPane).show_lines(lines, keep_scroll=True)

    def _lines(self, key: tuple[Any, ...], signature: tuple[Any, ...], build: Callable[[], list[Text]]) -> list[Text]:
        """The lines ``build`` draws for ``key``: the ones drawn last sync if ``signature`` is the same."""
        previous = self._reused.get(key)
        lines = previous[1] if previous is not None and previous[0] == signature else build()
        self._built[key] = (signature, lines)
        return lines

    def on_resize(self) -> None:
        self.sync()

    def _measure(self) -> None:
        """Widths and styles for this sync; lines drawn with others are not reused.

        Series names and sparklines are narrower when the body is under WIDE columns.
        """
        width = self.query_one("#metrics-body", TextPane).scrollable_content_region.width
        if width <= 0 or width >= WIDE:
            name_width, spark_width = NAME_WIDTH, SPARK
        else:
            name_width, spark_width = max(12, min(NAME_WIDTH, width - 40)), SPARK // 2
        palette = _Palette(*(component_style(self, f"metrics--{name}") for name in ("spark", "heading", "muted", "busy")))
        if (name_width, spark_width, width, palette) != (self._name_width, self._spark_width, self._body_width, self._palette):
            self._built = {}
        self._name_width, self._spark_width, self._body_width, self._palette = name_width, spark_width, width, palette

    def _heading(self, title: str) -> Text:
        return Text(title, style=self._palette.heading)

    def _muted(self, text: str) -> Text:
        return Text(text, style=self._palette.muted)

    def _spark(self, history: History) -> str:
        bars = sparkline(list(history), self._spark_width, capacity=history.limit, dropped=history.dropped)
        return "".join(c for c, _ in bars)

    def _series_label(self, series: Series) -> Text:
        name_width = self._name_width
        return safe_text(series.key.ljust(name_width), max_length=name_width)

    def _head(self, title: str, columns: str) -> list[Text]:
        """A section's heading and, when not empty, the line under it (its columns, or "-" for no series)."""
        return self._lines((title,), (columns,), lambda: [self._heading(title)] + ([self._muted(columns)] if columns else []))

    def _series_lines(self, title: str, series: list[Series], value_label: str, spark_label: str) -> list[Text]:
        head = self._head(title, f"{'series':<{self._name_width}} {value_label:>10}  {spark_label}" if series else "-")
        return head + [line for item in series for line in self._series_line(title, item)]

    def _series_line(self, title: str, item: Series) -> list[Text]:
        value, spark = f" {_number(item.value):>10}  ", self._spark(item.history)
        rate = f" {item.history[-1]:.1f}/s" if item.kind == "counter" and item.history else ""

        def build() -> list[Text]:
            out = self._series_label(item)
            out.append(value)
            out.append(spark, style=self._palette.spark)
            out.append(rate)
            return [out]

        return self._lines((title, item.key), (value, spark, rate), build)

    def _histogram_lines(self, series: list[Series]) -> list[Text]:
        head = self._head("Histograms", (
            f"{'series':<{self._name_width}} {'count':>8} {'p50':>9} {'p90':>9} {'p99':>9}" if series else "-"))
        return head + [line for item in series for line in self._histogram_line(item)]

    def _histogram_line(self, item: Series) -> list[Text]:
        def build() -> list[Text]:
            summary = item.summary
            out = self._series_label(item)
            count = summary.get("count")
            out.append(f" {_number(count if isinstance(count, (int, float)) else None):>8}")
            for q in ("p50", "p90", "p99"):
                value = summary.get(q)
                text = duration(value) if "seconds" in item.name and isinstance(value, (int, float)) else (
                    _number(value) if isinstance(value, (int, float)) else "-")
                out.append(f" {text:>9}")
            return [out]

        return self._lines(("Histograms", item.key), tuple(item.summary.items()), build)

    def _pool_lines(self) -> list[Text]:
        pools = sorted(self.state.pools.values(), key=lambda p: p.name)
        return self._head("Worker pools", "" if pools else "-") + [
            line for pool in pools for line in self._pool_line(pool)]

    def _pool_line(self, pool: PoolView) -> list[Text]:
        spark = self._spark(pool.steals_history)
        return self._lines(
            ("Worker pools", pool.name),
            (pool.busy, pool.workers, pool.steals_per_second, spark, tuple(pool.queue_depths.items())),
            lambda: self._pool_text(pool, spark),
        )

    def _pool_text(self, pool: PoolView, spark: str) -> list[Text]:
        palette = self._palette
        out = safe_text(pool.name, max_length=30)
        workers = "-" if pool.workers is None else _number(pool.workers)
        out.append("  busy ")
        out.append(f"{_number(pool.busy)}/{workers}", style=palette.busy)
        steals = "-" if pool.steals_per_second is None else f"{pool.steals_per_second:.1f}"
        out.append(f"  steals/s {steals} ")
        out.append(spark, style=palette.spark)
        lines = [out, Text("  queue depth per worker:")]
        peak = max(pool.queue_depths.values(), default=0.0) or 1.0
        for worker, depth in sorted(pool.queue_depths.items(), key=lambda kv: _worker_order(kv[0])):
            entry = Text("  ")
            entry.append_text(safe_text(worker, max_length=12))
            entry.append(" ")
            entry.append("█" * max(0, round(depth / peak * 8)) or "·", style=palette.spark)
            entry.append(f" {_number(depth)}")
            # The pane does not wrap: a worker that would not fit starts a line of its own.
            if self._body_width and lines[-1].cell_len + entry.cell_len > self._body_width:
                lines.append(Text("  "))
            lines[-1].append_text(entry)
        return lines


_BLANK = Text()


class _Palette(NamedTuple):
    """The panel's component styles, read once a sync."""

    spark: Style
    heading: Style
    muted: Style
    busy: Style


def _worker_order(worker: str) -> tuple[int, str]:
    return (int(worker), "") if worker.isdigit() else (1 << 30, worker)
