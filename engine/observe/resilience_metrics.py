"""Engine metrics of the resilience parts: dead letters, breakers, pools, handler errors.

`ResilienceMetrics` is the part of `engine.observe.engine_metrics.EngineMetrics` that
turns ``dlq.*``, ``breaker.*``, ``pool.*`` and ``handler.error`` events into
metrics, and reads every breaker's snapshot when metrics are read (breakers
count their own rejections and move from open to half-open lazily, so their
snapshots are the truth at read time). The handlers run on whichever thread
flushes the events (one thread at a time per subscription); ``_lock`` (the
subscriber's) guards the breaker rejection counts already reported, and the
metrics collector its own series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..events import Event

if TYPE_CHECKING:
    from .metrics import MetricsCollector

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


class ResilienceMetrics:
    """Metrics of dead letters, breakers and pools (mixed into `EngineMetrics`)."""

    # Provided by EngineMetrics.
    runtime: Any
    metrics: MetricsCollector
    _lock: Any
    _rejections_seen: dict[str, int]

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
