"""View state of the metrics panel.

The metrics collector keeps its series in the engine; the panel polls its
public ``collect()`` about once a second off the UI thread and hands the
families to `MetricsPanelState.apply_collect`, which keeps a short history
per series: counters as a rate per second, gauges as values, histograms as
p50/p90/p99 and their count rate. Recorded sessions carry the same families
as ``console.metrics.collect`` events (a console-only type). The worker
pool's figures (queue depth per worker, busy workers, steals per second)
come from the pool's series and from ``pool.*`` events that carry them.
Only the UI thread calls the reducers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

COLLECT_EVENT = "console.metrics.collect"
HISTORY = 60


class History:
    """A series' last `HISTORY` values, one a read, and how many it was ever given.

    The count places the values in time: value ``i`` was the
    ``recorded - len + i``-th read, so a sparkline can group reads into
    buckets that stay put as reads arrive, rather than buckets that shift by
    one read every second.
    """

    __slots__ = ("values", "recorded")

    def __init__(self, limit: int = HISTORY) -> None:
        self.values: deque[float] = deque(maxlen=limit)
        self.recorded = 0

    @property
    def limit(self) -> int:
        return self.values.maxlen or 0

    @property
    def dropped(self) -> int:
        """How many reads are older than the values kept."""
        return self.recorded - len(self.values)

    def append(self, value: float) -> None:
        self.values.append(value)
        self.recorded += 1

    def __iter__(self) -> Iterator[float]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> float:
        return self.values[index]


@dataclass(slots=True)
class Series:
    """One metric series (name + labels) and its recent history."""

    name: str
    kind: str
    labels: Mapping[str, Any]
    value: float | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    history: History = field(default_factory=History)
    _last_total: float | None = None
    _last_time: float | None = None

    @property
    def key(self) -> str:
        if not self.labels:
            return self.name
        inner = ",".join(f"{k}={self.labels[k]}" for k in sorted(self.labels))
        return f"{self.name}{{{inner}}}"


@dataclass(slots=True)
class PoolView:
    """The worker pool's load: queue depth per worker, busy workers, steals per second."""

    name: str
    queue_depths: dict[str, float] = field(default_factory=dict)
    busy: float | None = None
    workers: float | None = None
    steals_per_second: float | None = None
    steals_history: History = field(default_factory=History)
    _steals_total: float | None = None
    _steals_time: float | None = None


class MetricsPanelState:
    """Counters, gauges and histograms with short histories, and pool load."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.series: dict[str, Series] = {}
        self.pools: dict[str, PoolView] = {}

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            if event.type == COLLECT_EVENT:
                families = event.data.get("families")
                if isinstance(families, list):
                    changed |= self._collect(families, event.ts)
            elif event.type.startswith("pool."):
                changed |= self._on_pool_event(event)
        return changed

    def apply_collect(self, families: Sequence[Mapping[str, Any]]) -> bool:
        """Fold the collector's ``collect()`` read just now."""
        return self._collect(families, self.clock.time())

    def _collect(self, families: Sequence[Mapping[str, Any]], now: float) -> bool:
        for family in families:
            name = str(family.get("name", "?"))
            kind = str(family.get("kind", "gauge"))
            for raw in family.get("series") or ():
                if isinstance(raw, Mapping):
                    self._series(name, kind, raw, now)
        return bool(families)

    def _series(self, name: str, kind: str, raw: Mapping[str, Any], now: float) -> None:
        labels = raw.get("labels") if isinstance(raw.get("labels"), Mapping) else {}
        probe = Series(name, kind, dict(labels))
        series = self.series.get(probe.key)
        if series is None:
            series = self.series[probe.key] = probe
        if kind == "histogram":
            series.summary = {k: raw.get(k) for k in ("count", "sum", "p50", "p90", "p99", "mean")}
            total = _num(raw.get("count"))
        else:
            total = _num(raw.get("value"))
            series.value = total
        if kind in ("counter", "histogram") and total is not None:
            if series._last_total is not None and series._last_time is not None and now > series._last_time:
                series.history.append(max(0.0, (total - series._last_total) / (now - series._last_time)))
            series._last_total, series._last_time = total, now
        elif total is not None:
            series.history.append(total)
        self._pool_from_series(series, now)

    def _pool_from_series(self, series: Series, now: float) -> None:
        name = series.name
        if "pool" not in name:
            return
        pool = self._pool(str(series.labels.get("pool", "pool")))
        value = series.value
        if "queue_depth" in name and value is not None:
            pool.queue_depths[str(series.labels.get("worker", "all"))] = value
        elif "busy" in name and value is not None:
            pool.busy = value
        elif name.endswith("workers") and value is not None:
            pool.workers = value
        elif "steal" in name and value is not None:
            self._steals(pool, value, now)

    def _on_pool_event(self, event: Event) -> bool:
        data = event.data
        pool = self._pool(str(data.get("pool", event.workflow or "pool")))
        changed = False
        depths = data.get("queue_depths")
        if isinstance(depths, list):
            pool.queue_depths = {str(i): float(d) for i, d in enumerate(depths) if _num(d) is not None}
            changed = True
        elif isinstance(depths, Mapping):
            pool.queue_depths = {str(k): float(v) for k, v in depths.items() if _num(v) is not None}
            changed = True
        if _num(data.get("busy_workers")) is not None:
            pool.busy = float(data["busy_workers"])
            changed = True
        if _num(data.get("workers")) is not None:
            pool.workers = float(data["workers"])
            changed = True
        if _num(data.get("steals")) is not None:
            self._steals(pool, float(data["steals"]), event.ts)
            changed = True
        return changed

    def _pool(self, name: str) -> PoolView:
        pool = self.pools.get(name)
        if pool is None:
            pool = self.pools[name] = PoolView(name)
        return pool

    def _steals(self, pool: PoolView, total: float, now: float) -> None:
        if pool._steals_total is not None and pool._steals_time is not None and now > pool._steals_time:
            rate = max(0.0, (total - pool._steals_total) / (now - pool._steals_time))
            pool.steals_per_second = rate
            pool.steals_history.append(rate)
        pool._steals_total, pool._steals_time = total, now

    # -- questions the panel asks -------------------------------------------

    def of_kind(self, kind: str) -> list[Series]:
        return sorted((s for s in self.series.values() if s.kind == kind), key=lambda s: s.key)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
