"""The engine's built-in metrics, derived from the events on its bus.

`attach_engine_metrics(runtime)` subscribes one handler to every event and
turns the events the other parts of the engine already publish into metrics
in ``runtime.metrics``, so no workflow code calls the metrics API by hand.
``runtime.metrics`` attaches it when it is made, which is when the runtime
is made, so everything from the runtime's first event is counted. Every name below carries
the prefix ``flowconsole_``:

================================  =======================================================
metric (Prometheus name)          from
================================  =======================================================
``runs_{started,completed,        ``run.started`` / ``run.completed`` / ``run.failed``
failed}_total{workflow}``         (``run.cancelled`` counts as failed)
``runs_active{workflow}``         started minus finished
``run_duration_seconds``          ``duration`` of ``run.completed`` / ``run.failed``
``tasks_{started,completed,       ``task.started`` / ``task.completed`` / ``task.failed``
failed}_total{workflow}``
``task_duration_seconds``         ``duration`` of ``task.completed`` / ``task.failed``
``retries_total{workflow}``       ``task.retrying``, ``pool.task.retrying`` and
                                  ``retry.scheduled``
``dead_letters_total{source}``    ``dlq.added``; ``dead_letters_open`` goes down on
                                  ``dlq.resolved`` / ``dlq.discarded`` / ``dlq.evicted``
``breaker_state{breaker}``        ``breaker.*`` events (0 closed, 1 half-open, 2 open),
                                  and each breaker's snapshot when metrics are read
``breaker_rejections_total``      the breakers' own rejection counts, read when metrics
                                  are read (and any ``breaker.rejected`` event)
``pool_workers{pool}`` (and        any ``pool.*`` event whose data carries ``workers``
``pool_queue_depth``,             (``queue_depth`` / ``busy_workers`` likewise); a
``pool_busy_workers``)            `WorkerPool` also sets ``pool.queue_depth{pool,worker}``
                                  and ``pool.busy_workers{pool}`` gauges itself
``handler_errors_total``          ``handler.error``
``events_total{type}``            every event, as the bus counts them
                                  (`EventBus.published_counts`); ``events_per_second``
                                  is the rate over the latest window of at least one
                                  second of the runtime's clock (closed by the first
                                  batch of task events or read after it)
================================  =======================================================

Task counters are labelled by workflow only, not by task, so a generated DAG
of ten thousand tasks makes one series, not ten thousand; pass
``per_task=True`` to label task durations by task as well.

Only the types something is derived from are subscribed to, each with a
batch subscription (`engine.bus.batch_delivery`): a publisher pays one
``deque.append`` per such event, and nothing for any other type (a
``span.finished``, a ``log.record``, an application's own events), since
``events_total`` comes from the bus's own counts. Task events, the frequent
ones, become metrics a list at a time with C-level tools
(`collections.Counter`, `operator.itemgetter`), on whichever thread flushes
them: a publisher every ``FLUSH_EVERY`` events, or a reader, since the
collector drains before every read (so what is read is never stale). Each
subscription lets one thread flush at a time, in publishing order;
``_lock`` guards the events-per-second window, the bus counts already
reported and the breaker rejection counts already reported.
The series handles are cached in dicts whose single-key operations are
atomic under the GIL; two threads racing to cache the same series get the
same handle from the collector. The metrics collector guards its own series.
"""

from __future__ import annotations

import math
from collections import Counter
from operator import attrgetter, itemgetter
import threading
import time
from typing import Any, Callable, Iterable

from ..clock import SystemClock
from .engine_metrics_help import HELP
from ..events import Event
from ..runtime import Runtime, current_runtime
from .metrics import MetricsCollector, derive_engine_metrics_with

PREFIX = "flowconsole_"


_BREAKER_STATES = {"closed": 0, "half_open": 1, "half-open": 1, "open": 2}


_BREAKER_SUFFIXES = {
    "opened": "open", "open": "open", "closed": "closed", "reset": "closed",
    "half_opened": "half_open", "half_open": "half_open",
}


_POOL_GAUGES = {
    "queue_depth": "pool_queue_depth",
    "busy_workers": "pool_busy_workers",
    "workers": "pool_workers",
}


_given_of = attrgetter("_given")


_correlation_of = attrgetter("_correlation")


_first = itemgetter(0)


_data_of = attrgetter("data")


_duration_of = itemgetter("duration")


_NUMBERS = frozenset({int, float})


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


_attach_lock = threading.Lock()
_UNHANDLED: Any = object()
# The patterns of the infrequent types metrics are derived from, each
# handled one event at a time (`EngineMetrics._each`).
_PATTERNS = (
    "run.*", "task.failed", "task.retrying", "retry.scheduled", "dlq.*", "breaker.*", "pool.*",
    "handler.error",
)


class EngineMetrics:
    """The subscriber that derives the built-in metrics; see the module doc."""

    def __init__(
        self,
        runtime: Runtime,
        metrics: MetricsCollector | None = None,
        *,
        per_task: bool = False,
        event_time: bool = False,
    ) -> None:
        self.runtime = runtime
        self.metrics = metrics if metrics is not None else runtime.metrics
        self.per_task = per_task
        self.event_time = event_time
        clock = runtime.clock
        self._monotonic = time.monotonic if isinstance(clock, SystemClock) else clock.monotonic
        self._lock = threading.Lock()
        self._next_roll = -math.inf
        self._roll_time: float | None = None
        self._roll_total = 0
        # Series handles resolved once: the per-event path is a dict lookup
        # and a locked add, not a label sort and a table lookup.
        self._event_counters: dict[str, Any] = {}
        self._series: dict[tuple[str, str, str], Any] = {}
        self._started_by_workflow: dict[str, Any] = {}
        self._completed_by_workflow: dict[str, Any] = {}
        self._rejections_seen: dict[str, int] = {}
        self._handlers: dict[str, Callable[[Event], None]] = {
            "run.started": self._run_started,
            "run.completed": self._run_completed,
            "run.failed": self._run_failed,
            "run.cancelled": self._run_failed,
            "task.failed": self._task_failed,
            "task.retrying": self._retry,
            "retry.scheduled": self._retry,
            "pool.task.retrying": self._retry,
            "dlq.added": self._dlq_added,
            "dlq.resolved": self._dlq_closed,
            "dlq.discarded": self._dlq_closed,
            "dlq.evicted": self._dlq_evicted,
            "breaker.rejected": self._breaker_rejected,
            "handler.error": self._handler_error,
        }
        # Types frequent enough to be handled a batch at a time.
        self._grouped: dict[str, Callable[[list[Event]], None]] = {
            "task.started": self._tasks_started,
            "task.completed": self._tasks_completed,
        }
        for name, text in HELP.items():
            self.metrics.describe(PREFIX + name, text)
        self._subscriptions: list[tuple[str, Any]] = []
        self._published_seen: dict[str, int] = {}

    def attach(self) -> EngineMetrics:
        """Start deriving metrics from the runtime's bus (once)."""
        if not self._subscriptions:
            bus = self.runtime.bus
            with self._lock:
                self._published_seen = bus.published_counts()
            handlers = [(etype, self._batch_of(handle)) for etype, handle in self._grouped.items()]
            handlers += [(pattern, self._each) for pattern in _PATTERNS]
            self._subscriptions = [
                (pattern, bus.subscribe(pattern, handle, mode="batch")) for pattern, handle in handlers
            ]
            self.metrics.add_pending_source(self.drain)
            self.metrics.add_collect_hook(self._read_breakers)
        return self

    @property
    def attached(self) -> bool:
        return bool(self._subscriptions)

    def detach(self) -> None:
        """Stop deriving metrics; the values so far stay."""
        if self._subscriptions:
            # Unsubscribing hands over what each subscription still holds.
            for pattern, subscription in self._subscriptions:
                self.runtime.bus.unsubscribe(pattern, subscription)
            self._sync_counts()
            self._subscriptions = []
            self.metrics.remove_pending_source(self.drain)
            self.metrics.remove_collect_hook(self._read_breakers)

    def _batch_of(self, handle: Callable[[list[Event]], None]) -> Callable[[list[Event]], None]:
        def batch(events: list[Event]) -> None:
            handle(_not_replayed(events))
            now = self._monotonic()
            if now >= self._next_roll:
                self._sync_counts()
                self._roll(now)

        batch.__qualname__ = handle.__qualname__
        return batch

    def _each(self, events: list[Event]) -> None:
        """The batch handler of the infrequent types: one event at a time."""
        for event in _not_replayed(events):
            self._derive(event)

    def drain(self) -> None:
        """Derive metrics from every event published so far (the collector's reads call it)."""
        for _, subscription in self._subscriptions:
            subscription.flush()
        if self._subscriptions:
            self._sync_counts()
            now = self._monotonic()
            if now >= self._next_roll:
                self._roll(now)

    def _sync_counts(self) -> None:
        # Adds what the bus has counted since the last look to events_total.
        with self._lock:
            counts = self.runtime.bus.published_counts()
            seen, self._published_seen = self._published_seen, counts
        for etype, n in counts.items():
            new = n - seen.get(etype, 0)
            if new > 0:
                self._add_events(etype, new)

    def _add_events(self, etype: str, n: int) -> None:
        self._count_into(self._event_counters, "events", "type", etype, n)

    def observe(self, event: Event) -> None:
        """Derive metrics from one event now (replayed or not).

        For rebuilding metrics from a stored event log: ``events_per_second``
        is then measured on the events' own timestamps when the
        `EngineMetrics` was made with ``event_time=True``.
        """
        now = event.ts if self.event_time else self._monotonic()
        if now >= self._next_roll:
            self._roll(now)
        self._add_events(event.type, 1)
        grouped = self._grouped.get(event.type)
        if grouped is not None:
            grouped([event])
        else:
            self._derive(event)

    def _derive(self, event: Event) -> None:
        etype = event.type
        handler = self._handlers.get(etype, _UNHANDLED)
        if handler is _UNHANDLED:
            if etype.startswith("breaker."):
                handler = self._breaker_state
            elif etype.startswith("pool."):
                handler = self._pool
            else:
                return
        handler(event)

    def _roll(self, now: float) -> None:
        # Once a second: the rate is the events counted since the last roll
        # over the time since then.
        with self._lock:
            if now < self._next_roll:
                return
            total = sum(c.value for c in list(self._event_counters.values()))
            last_time, last_total = self._roll_time, self._roll_total
            self._roll_time, self._roll_total = now, total
            self._next_roll = now + 1.0
        if last_time is not None and now > last_time:
            self.metrics.gauge(PREFIX + "events_per_second", (total - last_total) / (now - last_time))

    # -- metrics of runs, tasks and retries -----------------------------------

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

    # -- metrics of dead letters, breakers, pools and handler errors ----------

    def _read_breakers(self, metrics: MetricsCollector) -> None:
        # Breakers count their rejections themselves and move from open to
        # half-open lazily, so their snapshots are the truth at read time.
        for snapshot in self.runtime.breakers.snapshots():
            labels = {"breaker": str(snapshot.get("name", ""))}
            number = _BREAKER_STATES.get(str(snapshot.get("state")))
            if number is not None:
                metrics.gauge(PREFIX + "breaker_state", number, labels)
            rejections = snapshot.get("rejections")
            if isinstance(rejections, int):
                with self._lock:
                    seen = self._rejections_seen.get(labels["breaker"], 0)
                    self._rejections_seen[labels["breaker"]] = max(seen, rejections)
                if rejections > seen:
                    metrics.increment(PREFIX + "breaker_rejections", rejections - seen, labels)

    def _dlq_added(self, event: Event) -> None:
        labels = {"source": str(event.data.get("source", ""))}
        self.metrics.increment(PREFIX + "dead_letters", 1, labels)
        self.metrics.adjust_gauge(PREFIX + "dead_letters_open", 1)

    def _dlq_closed(self, event: Event) -> None:
        self.metrics.adjust_gauge(PREFIX + "dead_letters_open", -1)

    def _dlq_evicted(self, event: Event) -> None:
        if event.data.get("status") not in ("resolved", "discarded"):
            self.metrics.adjust_gauge(PREFIX + "dead_letters_open", -1)

    @staticmethod
    def _breaker_name(event: Event) -> dict[str, str]:
        data = event.data
        return {"breaker": str(data.get("breaker") or data.get("name") or "")}

    def _breaker_rejected(self, event: Event) -> None:
        self.metrics.increment(PREFIX + "breaker_rejections", 1, self._breaker_name(event))

    def _breaker_state(self, event: Event) -> None:
        state = event.data.get("state") or event.data.get("to")
        if state is None:
            state = _BREAKER_SUFFIXES.get(event.type[len("breaker."):])
        number = _BREAKER_STATES.get(str(state)) if state is not None else None
        if number is not None:
            self.metrics.gauge(PREFIX + "breaker_state", number, self._breaker_name(event))

    def _pool(self, event: Event) -> None:
        data = event.data
        labels: dict[str, str] | None = None
        for field, metric in _POOL_GAUGES.items():
            value = data.get(field)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if labels is None:
                    labels = {"pool": str(data.get("pool") or event.workflow or "")}
                self.metrics.gauge(PREFIX + metric, value, labels)

    def _handler_error(self, event: Event) -> None:
        self.metrics.increment(PREFIX + "handler_errors", 1, {"event_type": str(event.data.get("event_type", ""))})


def attach_engine_metrics(
    runtime: Runtime | None = None,
    metrics: MetricsCollector | None = None,
    *,
    per_task: bool = False,
) -> EngineMetrics:
    """Derive the built-in metrics from ``runtime``'s bus into ``runtime.metrics``.

    Idempotent: a collector already fed by this runtime's bus keeps its one
    subscriber (which is returned), so nothing is counted twice. Returns the
    subscriber; `EngineMetrics.detach` stops it. ``runtime.metrics`` attaches
    itself when it is made; calling this at engine start makes sure the
    first events are counted too.
    """
    if runtime is None:
        runtime = current_runtime()
    collector = metrics if metrics is not None else runtime.metrics
    with _attach_lock:
        existing = collector.engine_metrics
        if existing is not None and existing.runtime is runtime and existing.attached:
            return existing
        subscriber = EngineMetrics(runtime, collector, per_task=per_task).attach()
        collector.engine_metrics = subscriber
        return subscriber


def metrics_from_events(events: Iterable[Event], metrics: MetricsCollector | None = None) -> MetricsCollector:
    """The built-in metrics of a stream of past events (a stored event log).

    Rates are measured on the events' own timestamps. Returns the collector
    (a new one unless ``metrics`` is given).
    """
    runtime = Runtime(engine_metrics=False)
    collector = metrics if metrics is not None else MetricsCollector(runtime, engine_metrics=False)
    observe = EngineMetrics(runtime, collector, event_time=True).observe
    for event in events:
        observe(event)
    return collector


derive_engine_metrics_with(attach_engine_metrics)
