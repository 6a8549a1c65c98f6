"""Engine metrics of runs and tasks: counts, durations and retries by workflow.

`RunMetrics` is the part of `engine.observe.engine_metrics.EngineMetrics` that turns
``run.*``, ``task.*`` and retry events into metrics. Task events, the
frequent ones, arrive a list at a time and are read with C-level tools
(`collections.Counter`, `operator.itemgetter` over `map`) rather than a
Python call per event; the rest one event at a time. The handlers run on
whichever thread flushes the events (one at a time per subscription); the
series handles are cached in dicts whose single-key operations are atomic
under the GIL, and the metrics collector guards its own series.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from .resilience_metrics import PREFIX
from ..events import Event

if TYPE_CHECKING:
    from .metrics import MetricsCollector

_given_of = attrgetter("_given")
_correlation_of = attrgetter("_correlation")
_first = itemgetter(0)
_data_of = attrgetter("data")
_duration_of = itemgetter("duration")
_NUMBERS = frozenset({int, float})


class RunMetrics:
    """Metrics of runs, tasks and retries (mixed into `EngineMetrics`)."""

    # Provided by EngineMetrics.
    metrics: MetricsCollector
    per_task: bool
    _series: dict[tuple[str, str, str], Any]
    _started_by_workflow: dict[str, Any]
    _completed_by_workflow: dict[str, Any]

    def _count_into(self, cache: dict[str, Any], metric: str, label: str, value: str, n: int) -> None:
        """Add ``n`` to the counter ``metric{label=value}``, its handle cached in ``cache`` by value."""
        counter = cache.get(value)
        if counter is None:
            counter = cache[value] = self.metrics.counter_series(PREFIX + metric, {label: value})
        with counter._lock:
            counter.value += n

    def _handle(self, kind: str, metric: str, event: Event, extra: str = "") -> Any:
        workflow = event.workflow or event.data.get("workflow") or ""
        key = (metric, workflow, extra)
        found = self._series.get(key)
        if found is None:
            labels = {"workflow": workflow}
            if kind == "histogram":
                labels["outcome"] = extra.partition("/")[0]
                if self.per_task:
                    labels["task"] = extra.partition("/")[2]
            found = self._series[key] = getattr(self.metrics, f"{kind}_series")(PREFIX + metric, labels)
        return found

    def _run_started(self, event: Event) -> None:
        self._handle("counter", "runs_started", event).inc()
        self._handle("gauge", "runs_active", event).add(1)

    def _run_finished(self, event: Event, outcome: str) -> None:
        self._handle("counter", f"runs_{outcome}", event).inc()
        self._handle("gauge", "runs_active", event).add(-1)
        duration = event.data.get("duration")
        if duration.__class__ in (int, float):
            self._handle("histogram", "run_duration_seconds", event, outcome).record(duration)

    def _run_completed(self, event: Event) -> None:
        self._run_finished(event, "completed")

    def _run_failed(self, event: Event) -> None:
        self._run_finished(event, "failed")

    def _tasks_started(self, events: list[Event]) -> None:
        for workflow, n in _workflows(events)[1].items():
            self._count_into(self._started_by_workflow, "tasks_started", "workflow", workflow, n)

    def _task_finished(self, event: Event, outcome: str) -> None:
        self._handle("counter", f"tasks_{outcome}", event).inc()
        duration = event.data.get("duration")
        if duration.__class__ in (int, float):
            extra = f"{outcome}/{event.data.get('task', '')}" if self.per_task else outcome
            self._handle("histogram", "task_duration_seconds", event, extra).record(duration)

    def _tasks_completed(self, events: list[Event]) -> None:
        if self.per_task:
            for event in events:
                self._task_finished(event, "completed")
            return
        workflows, counts = _workflows(events)
        data = list(map(_data_of, events))
        try:
            durations = list(map(_duration_of, data))
        except KeyError:
            durations = [d.get("duration") for d in data]
        if len(counts) == 1:
            by_workflow = {workflows[0]: durations}
        else:
            by_workflow = {w: [] for w in counts}
            for workflow, duration in zip(workflows, durations):
                by_workflow[workflow].append(duration)
        for workflow, values in by_workflow.items():
            if not set(map(type, values)) <= _NUMBERS:
                values = [v for v in values if v.__class__ in (int, float)]
            cells = self._completed_by_workflow.get(workflow)
            if cells is None:
                labels = {"workflow": workflow}
                cells = self._completed_by_workflow[workflow] = (
                    self.metrics.counter_series(PREFIX + "tasks_completed", labels),
                    self.metrics.histogram_series(
                        PREFIX + "task_duration_seconds", {"workflow": workflow, "outcome": "completed"}
                    ),
                )
            counter, histogram = cells
            with counter._lock:
                counter.value += counts[workflow]
            histogram.record_many(values)

    def _task_failed(self, event: Event) -> None:
        self._task_finished(event, "failed")

    def _retry(self, event: Event) -> None:
        self._handle("counter", "retries", event).inc()


def _not_replayed(events: list[Event]) -> list[Event]:
    """``events`` without the ones a replay redelivered (counted when they happened)."""
    given = list(map(_given_of, events))
    if given.count(None) == len(given):
        return events
    return [e for e, g in zip(events, given) if g is None or not g[2]]


def _workflows(events: list[Event]) -> tuple[list[str], Counter[str]]:
    """Each event's workflow (its correlation's, else its data's, else ""), and their counts."""
    try:
        # The engine's own events carry their workflow in their correlation:
        # read in C, without a Python call per event.
        names = list(map(_first, map(_correlation_of, events)))
    except TypeError:  # an event without correlation
        names = []
    counts = Counter(names)
    if names and None not in counts and "" not in counts:
        return names, counts
    names = [e.workflow or e.data.get("workflow") or "" for e in events]
    return names, Counter(names)
