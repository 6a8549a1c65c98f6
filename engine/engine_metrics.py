"""The engine's built-in metrics, derived from the events on its bus.

`attach_engine_metrics(runtime)` subscribes one handler to every event and
turns the events the other parts of the engine already publish into metrics
in ``runtime.metrics``, so no workflow code calls the metrics API by hand.
``runtime.metrics`` attaches it when it is made. Every name below carries
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
``events_total{type}``            every event; ``events_per_second`` is the rate over
                                  the latest window of at least one second of the
                                  runtime's clock (updated by the first event after it)
================================  =======================================================

Task counters are labelled by workflow only, not by task, so a generated DAG
of ten thousand tasks makes one series, not ten thousand; pass
``per_task=True`` to label task durations by task as well.

A publisher only appends its event to ``_inbox`` (a deque: appends need no
lock); the events become metrics in batches, grouped by type, on whichever
thread drains: a publisher when ``BATCH`` events are queued or the
events-per-second window has closed, or a reader, since the collector
drains before every read (so what is read is never stale). ``_drain_lock``
lets one thread drain at a time, in queue order; ``_lock`` guards the
events-per-second window and the breaker rejection counts already reported.
The series handles are cached in dicts whose single-key operations are
atomic under the GIL; two threads racing to cache the same series get the
same handle from the collector. The metrics collector guards its own series.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .clock import SystemClock
from .engine_metrics_help import HELP
from .engine_metrics_resilience import PREFIX, ResilienceMetrics
from .events import Event

if TYPE_CHECKING:
    from .metrics import MetricsCollector
    from .runtime import Runtime

_attach_lock = threading.Lock()
_UNHANDLED: Any = object()
# Queued events drained at once (see `EngineMetrics.__call__`).
BATCH = 1024


class EngineMetrics(ResilienceMetrics):
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
            # Frequent types with nothing to derive beyond the event count.
            "span.finished": None,
            "log.record": None,
        }
        # Types frequent enough to be handled a batch at a time.
        self._grouped: dict[str, Callable[[list[Event]], None]] = {
            "task.started": self._tasks_started,
            "task.completed": self._tasks_completed,
        }
        self._inbox: deque[Event] = deque()
        self._drain_lock = threading.Lock()
        for name, text in HELP.items():
            self.metrics.describe(PREFIX + name, text)
        self._subscription: Any = None

    def attach(self) -> EngineMetrics:
        """Start deriving metrics from the runtime's bus (once)."""
        if self._subscription is None:
            # A bound method: the bus calls it for every event, and calling an
            # instance through __call__ costs twice as much.
            self._subscription = self.runtime.bus.subscribe("*", self._enqueue)
            self.metrics.add_pending_source(self.drain)
            self.metrics.add_collect_hook(self._read_breakers)
        return self

    @property
    def attached(self) -> bool:
        return self._subscription is not None

    def detach(self) -> None:
        """Stop deriving metrics; the values so far stay."""
        if self._subscription is not None:
            self.runtime.bus.unsubscribe("*", self._subscription)
            self.drain()
            self.metrics.remove_pending_source(self.drain)
            self.metrics.remove_collect_hook(self._read_breakers)
            self._subscription = None

    def _enqueue(self, event: Event) -> None:
        """The bus subscriber: queue ``event``; `drain` turns the queue into metrics.

        Queuing is all a publisher pays for most events (an append); the
        queue is drained in batches, grouped by type, when it holds
        ``BATCH`` events, when the events-per-second window closes, and
        before any read of the metrics.
        """
        given = event._given
        if given is not None and given[2]:
            return  # a replay redelivers events already counted when they happened
        inbox = self._inbox
        inbox.append(event)
        if len(inbox) >= BATCH or self._monotonic() >= self._next_roll:
            self.drain(wait=False)

    __call__ = _enqueue

    def drain(self, wait: bool = True) -> None:
        """Derive metrics from every queued event.

        One thread drains at a time; a publisher that finds a drain under
        way leaves its events to the next one (``wait=False``), a reader
        waits for it and then drains the rest.
        """
        lock = self._drain_lock
        if not lock.acquire(blocking=wait):
            return
        try:
            inbox = self._inbox
            batch = [inbox.popleft() for _ in range(len(inbox))]
            if not batch:
                return
            now = self._monotonic()
            if now >= self._next_roll:
                # The window closes at the last event queued: the rate counts
                # the events before it, as if each event were counted at once.
                self._count(batch[:-1])
                self._roll(now)
                self._count(batch[-1:])
            else:
                self._count(batch)
        finally:
            lock.release()

    def observe(self, event: Event) -> None:
        """Derive metrics from one event now (replayed or not).

        For rebuilding metrics from a stored event log: ``events_per_second``
        is then measured on the events' own timestamps when the
        `EngineMetrics` was made with ``event_time=True``.
        """
        now = event.ts if self.event_time else self._monotonic()
        if now >= self._next_roll:
            self._roll(now)
        self._count([event])

    def _count(self, events: list[Event]) -> None:
        by_type: dict[str, list[Event]] = {}
        for event in events:
            group = by_type.get(event.type)
            if group is None:
                by_type[event.type] = [event]
            else:
                group.append(event)
        for etype, group in by_type.items():
            counter = self._event_counters.get(etype)
            if counter is None:
                counter = self._event_counters[etype] = self.metrics.counter_series(
                    PREFIX + "events", {"type": etype}
                )
            with counter._lock:
                counter.value += len(group)
            grouped = self._grouped.get(etype)
            if grouped is not None:
                grouped(group)
                continue
            handler = self._handlers.get(etype, _UNHANDLED)
            if handler is _UNHANDLED:
                if etype.startswith("breaker."):
                    handler = self._breaker_state
                elif etype.startswith("pool."):
                    handler = self._pool
                else:
                    continue
            elif handler is None:
                continue
            for event in group:
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

    # -- runs and tasks ----------------------------------------------------

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
        for workflow, n in _by_workflow(events).items():
            counter = self._started_by_workflow.get(workflow)
            if counter is None:
                counter = self._started_by_workflow[workflow] = self.metrics.counter_series(
                    PREFIX + "tasks_started", {"workflow": workflow}
                )
            with counter._lock:
                counter.value += n

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
        durations: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        for event in events:
            data = event.data
            duration = data.get("duration")
            workflow = event.workflow or data.get("workflow") or ""
            found = durations.get(workflow)
            if found is None:
                found = durations[workflow] = []
            counts[workflow] = counts.get(workflow, 0) + 1
            if duration.__class__ in (int, float):
                found.append(duration)
        for workflow, values in durations.items():
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

def _by_workflow(events: list[Event]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        workflow = event.workflow or event.data.get("workflow") or ""
        counts[workflow] = counts.get(workflow, 0) + 1
    return counts


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
        from .runtime import current_runtime

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
    from .metrics import MetricsCollector
    from .runtime import Runtime

    runtime = Runtime()
    collector = metrics if metrics is not None else MetricsCollector(runtime, engine_metrics=False)
    observe = EngineMetrics(runtime, collector, event_time=True).observe
    for event in events:
        observe(event)
    return collector
