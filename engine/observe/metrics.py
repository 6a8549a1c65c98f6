"""Metrics: counters, gauges and histograms, with optional labels.

The basic API works: ``MetricsCollector()``, ``increment(name, value=1)``,
``gauge(name, value)``, ``histogram(name, value)`` and the ``metrics`` dict
with ``counters``, ``gauges`` and ``histograms``. Added:

* ``labels=`` on every call (``{"workflow": "etl", "task": "load"}``): each
  distinct label set is a series of its own. In the ``metrics`` view an
  unlabelled series is keyed by its name and a labelled one by
  ``name{key="value",...}`` (Prometheus' notation).
* Histograms are `engine.observe.histogram.Histogram` sketches: bounded memory, and
  p50/p90/p99 within 1% relative error.
* `MetricsCollector.to_prometheus` renders everything in the Prometheus text
  exposition format (see `engine.observe.prometheus`).

The engine's own metrics (runs, tasks, retries, breakers, pools, dead
letters) are derived from bus events by `engine.observe.engine_metrics`.

``_lock`` guards the three series tables and the metric kinds; histograms
guard their own contents.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .histogram import DEFAULT_RELATIVE_ACCURACY, Histogram
from .errors import MetricError

if TYPE_CHECKING:
    from ..runtime import Runtime

# How a collector made with a runtime derives the engine's built-in metrics:
# `engine.observe.engine_metrics` (which imports this module) registers it.
_derive_engine_metrics: Callable[[Runtime, MetricsCollector], Any] | None = None


def derive_engine_metrics_with(attach: Callable[[Runtime, MetricsCollector], Any]) -> None:
    """Make every collector made with a runtime call ``attach(runtime, collector)``."""
    global _derive_engine_metrics
    _derive_engine_metrics = attach

_log = logging.getLogger("engine.metrics")

LabelKey = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, LabelKey]
_NO_LABELS: LabelKey = ()


def _label_key(name: str, labels: Mapping[str, Any] | None) -> LabelKey:
    if not labels:
        return _NO_LABELS
    try:
        items = labels.items()
    except AttributeError:
        raise MetricError(name, f"labels must be a mapping, got {labels!r}") from None
    return tuple(sorted((str(k), "" if v is None else str(v)) for k, v in items))


def series_name(name: str, labels: LabelKey) -> str:
    """``name`` or ``name{k="v",...}``: how a series is keyed in `metrics`."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return f"{name}{{{inner}}}"


def _number(name: str, value: Any) -> float | int:
    if value.__class__ is int or value.__class__ is float:
        if value != value or value in (math.inf, -math.inf):
            raise MetricError(name, f"value must be finite, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricError(name, f"value must be a number, got {value!r}")
    return _number(name, float(value) if isinstance(value, float) else int(value))


class Counter:
    """One counter series: a number that only goes up. ``_lock`` guards ``value``."""

    __slots__ = ("name", "value", "_lock")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value: float | int = 0
        self._lock = threading.Lock()

    def inc(self, value: float = 1) -> None:
        """Add ``value`` (a finite number >= 0)."""
        if value.__class__ is not int or value < 0:
            value = _number(self.name, value)
            if value < 0:
                raise MetricError(self.name, f"a counter only goes up; cannot add {value!r}")
        with self._lock:
            self.value += value


class Gauge:
    """One gauge series: a number that is set, or moved up and down. ``_lock`` guards ``value``."""

    __slots__ = ("name", "value", "_lock")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value: float | int = 0
        self._lock = threading.Lock()

    def set(self, value: float) -> None:
        """Make the gauge ``value``."""
        value = _number(self.name, value)
        with self._lock:
            self.value = value

    def add(self, delta: float) -> None:
        """Move the gauge by ``delta`` (may be negative)."""
        if delta.__class__ is not int:
            delta = _number(self.name, delta)
        with self._lock:
            self.value += delta


class MetricsCollector:
    """Counters, gauges and histograms kept in memory.

    ``describe(name, help)`` sets the help text shown in the Prometheus
    output. A name is one kind only: a counter name used as a gauge is a
    `MetricError`.

    Made with a ``runtime`` (as ``runtime.metrics`` is), the collector also
    derives the engine's built-in metrics from that runtime's bus (see
    `engine.observe.engine_metrics`) unless ``engine_metrics=False``. Made without
    one, as in the basic API, it holds only what it is told.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        relative_accuracy: float = DEFAULT_RELATIVE_ACCURACY,
        engine_metrics: bool = True,
    ) -> None:
        self.runtime = runtime
        self.relative_accuracy = relative_accuracy
        self.engine_metrics: Any = None
        self._lock = threading.Lock()
        self._counters: dict[SeriesKey, Counter] = {}
        self._gauges: dict[SeriesKey, Gauge] = {}
        self._histograms: dict[SeriesKey, Histogram] = {}
        self._kinds: dict[str, str] = {}
        self._help: dict[str, str] = {}
        self._hooks: tuple[Callable[[MetricsCollector], Any], ...] = ()
        self._pending: tuple[Callable[[], Any], ...] = ()
        if runtime is not None and engine_metrics and _derive_engine_metrics is not None:
            _derive_engine_metrics(runtime, self)

    def _claim(self, name: str, kind: str) -> None:
        # Called with _lock held.
        known = self._kinds.get(name)
        if known is None:
            if not isinstance(name, str) or not name:
                raise MetricError(str(name), "name must be a non-empty string")
            self._kinds[name] = kind
        elif known != kind:
            raise MetricError(name, f"already used as a {known}, cannot record it as a {kind}")

    def _series(self, table: dict[SeriesKey, Any], kind: str, name: str, labels: Mapping[str, Any] | None) -> Any:
        key = (name, _label_key(name, labels))
        found = table.get(key)
        if found is None:
            with self._lock:
                self._claim(name, kind)
                found = table.get(key)
                if found is None:
                    found = table[key] = _MAKERS[kind](self, name)
        return found

    # -- series handles: resolve once, update cheaply ----------------------

    def counter_series(self, name: str, labels: Mapping[str, Any] | None = None) -> Counter:
        """The `Counter` of one series, for hot paths that update it often."""
        return self._series(self._counters, "counter", name, labels)

    def gauge_series(self, name: str, labels: Mapping[str, Any] | None = None) -> Gauge:
        """The `Gauge` of one series."""
        return self._series(self._gauges, "gauge", name, labels)

    def histogram_series(self, name: str, labels: Mapping[str, Any] | None = None) -> Histogram:
        """The `Histogram` of one series."""
        return self._series(self._histograms, "histogram", name, labels)

    # -- the basic API ---------------------------------------------------

    def increment(self, name: str, value: float = 1, labels: Mapping[str, Any] | None = None) -> None:
        """Add ``value`` (>= 0) to a counter."""
        self._series(self._counters, "counter", name, labels).inc(value)

    def gauge(self, name: str, value: float, labels: Mapping[str, Any] | None = None) -> None:
        """Set a gauge to ``value``."""
        self._series(self._gauges, "gauge", name, labels).set(value)

    def adjust_gauge(self, name: str, delta: float, labels: Mapping[str, Any] | None = None) -> None:
        """Add ``delta`` (may be negative) to a gauge that starts at 0."""
        self._series(self._gauges, "gauge", name, labels).add(delta)

    def histogram(self, name: str, value: float, labels: Mapping[str, Any] | None = None) -> None:
        """Record ``value`` in a histogram."""
        value = _number(name, value)
        self._series(self._histograms, "histogram", name, labels).record(value)

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """A snapshot: ``{"counters": {...}, "gauges": {...}, "histograms": {...}}``.

        Counters and gauges map to numbers; histograms to their live
        `Histogram` (``len()`` is its count, ``summary()`` its statistics).
        """
        self._run_hooks()
        with self._lock:
            return {
                "counters": {series_name(n, l): c.value for (n, l), c in self._counters.items()},
                "gauges": {series_name(n, l): g.value for (n, l), g in self._gauges.items()},
                "histograms": {series_name(n, l): h for (n, l), h in self._histograms.items()},
            }

    # -- additions --------------------------------------------------------

    def add_collect_hook(self, hook: Callable[[MetricsCollector], Any]) -> None:
        """Call ``hook(collector)`` before every snapshot, to set metrics read from state.

        For values that are cheaper to read when asked for than to track
        (a breaker's state, a pool's queue depth). A hook that raises is
        logged and skipped.
        """
        with self._lock:
            self._hooks = self._hooks + (hook,)

    def remove_collect_hook(self, hook: Callable[[MetricsCollector], Any]) -> None:
        """Stop calling ``hook`` (no error if it was not added)."""
        with self._lock:
            self._hooks = tuple(h for h in self._hooks if h != hook)

    def add_pending_source(self, flush: Callable[[], Any]) -> None:
        """Call ``flush()`` before every read: for a source that records in batches."""
        with self._lock:
            self._pending = self._pending + (flush,)

    def remove_pending_source(self, flush: Callable[[], Any]) -> None:
        """Stop calling ``flush`` (no error if it was not added)."""
        with self._lock:
            self._pending = tuple(f for f in self._pending if f != flush)

    def _flush_pending(self) -> None:
        for flush in self._pending:
            flush()

    def _run_hooks(self) -> None:
        self._flush_pending()
        for hook in self._hooks:
            try:
                hook(self)
            except Exception:  # noqa: BLE001 - one broken source must not hide the rest
                _log.exception("metrics collect hook %r failed", hook)

    def describe(self, name: str, help: str) -> None:
        """Set the one-line help text of metric ``name``."""
        with self._lock:
            self._help[name] = " ".join(str(help).split())

    def counter_value(self, name: str, labels: Mapping[str, Any] | None = None) -> float | int:
        """The value of one counter series (0 if it never moved)."""
        self._flush_pending()
        with self._lock:
            found = self._counters.get((name, _label_key(name, labels)))
        return 0 if found is None else found.value

    def gauge_value(self, name: str, labels: Mapping[str, Any] | None = None) -> float | int | None:
        """The value of one gauge series, or None if never set."""
        self._flush_pending()
        with self._lock:
            found = self._gauges.get((name, _label_key(name, labels)))
        return None if found is None else found.value

    def get_histogram(self, name: str, labels: Mapping[str, Any] | None = None) -> Histogram | None:
        """The histogram of one series, or None if nothing was recorded."""
        self._flush_pending()
        with self._lock:
            return self._histograms.get((name, _label_key(name, labels)))

    def total(self, name: str) -> float | int:
        """The sum of every series of counter ``name`` (across labels)."""
        self._flush_pending()
        with self._lock:
            return sum(c.value for (n, _), c in self._counters.items() if n == name)

    def collect(self) -> list[dict[str, Any]]:
        """Every metric as a plain dict: name, kind, help and its series.

        Each series is ``{"labels": {...}, "value": v}`` for counters and
        gauges and ``{"labels": {...}, **Histogram.summary()}`` for histograms.
        """
        self._run_hooks()
        with self._lock:
            kinds = dict(self._kinds)
            helps = dict(self._help)
            counters = list(self._counters.items())
            gauges = list(self._gauges.items())
            histograms = list(self._histograms.items())
        families: dict[str, dict[str, Any]] = {
            name: {"name": name, "kind": kind, "help": helps.get(name, ""), "series": []}
            for name, kind in sorted(kinds.items())
        }
        for (name, labels), cell in counters + gauges:
            families[name]["series"].append({"labels": dict(labels), "value": cell.value})
        for (name, labels), hist in histograms:
            families[name]["series"].append({"labels": dict(labels), **hist.summary()})
        return [f for f in families.values() if f["series"]]

    def to_prometheus(self, *, prefix: str = "") -> str:
        """Every metric in the Prometheus text exposition format (version 0.0.4)."""
        from .prometheus import render

        return render(self.collect(), prefix=prefix)

    def reset(self) -> None:
        """Forget every series (help texts stay); handles held elsewhere go stale."""
        with self._lock:
            self._counters.clear()
            self._gauges.clear()
            self._histograms.clear()
            self._kinds.clear()


_MAKERS: dict[str, Callable[[MetricsCollector, str], Any]] = {
    "counter": lambda collector, name: Counter(name),
    "gauge": lambda collector, name: Gauge(name),
    "histogram": lambda collector, name: Histogram(collector.relative_accuracy),
}
