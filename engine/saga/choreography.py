"""Choreographed sagas: services react to each other's events on the bus.

There is no coordinator calling steps. Each service registers, for an event
type, a handler (its step) and a compensation; the handler does its work and
emits the next event itself (``choreography.emit``). A saga instance is the
set of events sharing a correlation id (``data[correlation_key]``, e.g.
``order_id``). When a step's handler raises, or an event registered with
``fail_on`` arrives, the instance compensates its completed steps in reverse
order *through events*: for each one the choreography publishes
``<step event type>.compensate`` (the step's original data plus ``step`` and
``result``, what its handler returned when JSON-friendly),
and the compensation subscribed to it runs (under a retry policy) and hands
on to the previous step. ``complete_on`` names the event that ends an
instance successfully.

Progress is reported with the saga events (``saga.started``,
``saga.step.*``, ``saga.compensation.*``, ``saga.completed``,
``saga.compensated``, ``saga.compensation_failed``), each with
``workflow=`` the choreography's name and ``run_id=`` the correlation id. A
compensation that still fails is parked in the dead-letter queue as a
``"handler"`` letter holding its ``.compensate`` event, so replaying the
letter runs it again.

Thread safety: ``_lock`` guards ``instances`` and every instance's fields;
handlers and compensations run outside it, on the publishing thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..bus.event_bus import EventBus
from ..events import Event
from ..jsonable import plain_or_none
from ..resilience.retry import RetryPolicy
from .model import SagaStatus
from ..observe.tracing import run_scope
from ..error_text import error_line, error_message
from .errors import ChoreographyError

if TYPE_CHECKING:
    from ..runtime import Runtime

Handler = Callable[[Event], Any]
COMPENSATE_SUFFIX = ".compensate"


@dataclass
class ChoreographyInstance:
    """One saga instance: the steps (event types) it completed, in order."""

    correlation_id: str
    status: SagaStatus = SagaStatus.RUNNING
    completed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)
    failed_compensations: list[str] = field(default_factory=list)
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None


class SagaChoreography:
    """A saga whose steps are event handlers of independent services.

    ``on_event(event_type, handler, compensate)`` is the basic API's call;
    ``event_handlers`` its table. ``emit`` publishes an event of the saga.
    """

    def __init__(
        self,
        name: str = "choreography",
        *,
        correlation_key: str = "order_id",
        bus: EventBus | None = None,
        runtime: Runtime | None = None,
        compensation_retry: RetryPolicy | None = None,
    ) -> None:
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        self.name = name
        self.correlation_key = correlation_key
        self.runtime = runtime
        self.bus = bus if bus is not None else runtime.bus
        self.compensation_retry = compensation_retry or RetryPolicy(
            max_attempts=3, base_delay=0.5, max_delay=5.0
        )
        self.event_handlers: dict[str, dict[str, Handler]] = {}
        self.instances: dict[str, ChoreographyInstance] = {}
        self.subscriptions: list[tuple[str, Handler]] = []
        self._complete_on: set[str] = set()
        self._lock = threading.Lock()

    # -- registration ------------------------------------------------------

    def on_event(self, event_type: str, handler: Handler, compensate: Handler) -> None:
        """Run ``handler(event)`` for ``event_type``; ``compensate(event)`` undoes it."""
        if not isinstance(event_type, str) or not event_type or event_type.endswith(COMPENSATE_SUFFIX):
            raise ChoreographyError(
                f"choreography {self.name!r}: bad step event type {event_type!r}"
            )
        if event_type in self.event_handlers:
            raise ChoreographyError(f"choreography {self.name!r}: {event_type!r} is registered twice")
        for label, fn in (("handler", handler), ("compensate", compensate)):
            if not callable(fn):
                raise ChoreographyError(
                    f"choreography {self.name!r}: {label} for {event_type!r} is not callable: {fn!r}"
                )
        self.event_handlers[event_type] = {"handler": handler, "compensate": compensate}
        self._subscribe(event_type, lambda event: self._step(event_type, handler, event))
        self._subscribe(
            event_type + COMPENSATE_SUFFIX,
            lambda event: self._compensate(event_type, compensate, event),
        )

    def fail_on(self, event_type: str) -> None:
        """Treat ``event_type`` as the failure of the instance it correlates to."""
        self._subscribe(event_type, self._failure_event)

    def complete_on(self, event_type: str) -> None:
        """Treat ``event_type`` as the successful end of its instance."""
        self._complete_on.add(event_type)
        self._subscribe(event_type, self._completion_event)

    def _subscribe(self, pattern: str, handler: Handler) -> None:
        self.bus.subscribe(pattern, handler)
        self.subscriptions.append((pattern, handler))

    def detach(self) -> None:
        """Unsubscribe everything this choreography registered."""
        for pattern, handler in self.subscriptions:
            self.bus.unsubscribe(pattern, handler)
        self.subscriptions.clear()

    def describe(self) -> dict[str, Any]:
        """The choreography as a plain dict: its steps (event types) in order."""
        return {"steps": list(self.event_handlers), "correlation_key": self.correlation_key}

    # -- running -----------------------------------------------------------

    def emit(self, event_type: str, data: dict[str, Any]) -> Event:
        """Publish an event of this saga (correlated by ``data[correlation_key]``)."""
        event = Event(event_type, data, workflow=self.name, run_id=self._correlation(event_type, data))
        self.bus.publish(event)
        return event

    def fail(self, correlation_id: str, reason: str) -> None:
        """Fail the instance ``correlation_id``: compensate what it completed."""
        self._begin_compensation(correlation_id, None, reason)

    def _correlation(self, event_type: str, data: Any) -> str:
        try:
            return str(data[self.correlation_key])
        except (KeyError, TypeError):
            raise ChoreographyError(
                f"choreography {self.name!r}: event {event_type!r} has no "
                f"{self.correlation_key!r} to correlate it by"
            ) from None

    def _step(self, step: str, handler: Handler, event: Event) -> None:
        cid = self._correlation(step, event.data)
        with self._lock:
            instance = self.instances.get(cid)
            new = instance is None
            if new:
                instance = self.instances[cid] = ChoreographyInstance(cid)
            running = instance.status is SagaStatus.RUNNING
        if new:
            self._emit("saga.started", cid, SagaStatus.RUNNING, step=step)
        if not running:
            return
        self._emit("saga.step.started", cid, SagaStatus.RUNNING, step=step)
        try:
            with run_scope(cid), self.runtime.tracer.start_span(
                f"step:{step}", {"workflow": self.name, "saga.step": step, "saga.run_id": cid}
            ):
                result = handler(event)
        except Exception as exc:
            self._emit("saga.step.failed", cid, SagaStatus.RUNNING, step=step,
                       error_type=type(exc).__name__, error=error_message(exc))
            self._begin_compensation(cid, step, error_line(exc))
            return
        with self._lock:
            instance.completed.append((step, {**event.data, "result": plain_or_none(result)}))
        self._emit("saga.step.completed", cid, SagaStatus.RUNNING, step=step)

    def _failure_event(self, event: Event) -> None:
        cid = self._correlation(event.type, event.data)
        reason = event.data.get("error") or event.data.get("reason") or event.type
        self._begin_compensation(cid, event.type, str(reason))

    def _completion_event(self, event: Event) -> None:
        cid = self._correlation(event.type, event.data)
        with self._lock:
            instance = self.instances.get(cid)
            if instance is None or instance.status is not SagaStatus.RUNNING:
                return
            instance.status = SagaStatus.COMPLETED
            steps = [s for s, _ in instance.completed]
        self._emit("saga.completed", cid, SagaStatus.COMPLETED, steps=steps)

    # -- compensating through events ---------------------------------------

    def _begin_compensation(self, cid: str, failed_step: str | None, error: str) -> None:
        with self._lock:
            instance = self.instances.setdefault(cid, ChoreographyInstance(cid))
            if instance.status is not SagaStatus.RUNNING:
                return
            instance.status = SagaStatus.COMPENSATING
            instance.failed_step, instance.error = failed_step, error
            instance.pending = list(reversed(instance.completed))
        self._next_compensation(instance)

    def _next_compensation(self, instance: ChoreographyInstance) -> None:
        cid = instance.correlation_id
        with self._lock:
            following = instance.pending.pop(0) if instance.pending else None
        if following is not None:
            step, data = following
            self._emit("saga.compensation.started", cid, SagaStatus.COMPENSATING, step=step)
            self.bus.publish(Event(
                step + COMPENSATE_SUFFIX, {**data, "step": step}, workflow=self.name, run_id=cid,
            ))
            return
        self._settle(instance)

    def _settle(self, instance: ChoreographyInstance) -> None:
        with self._lock:
            failed = list(instance.failed_compensations)
            instance.status = (
                SagaStatus.COMPENSATION_FAILED if failed else SagaStatus.COMPENSATED
            )
            data = {
                "failed_step": instance.failed_step,
                "error": instance.error,
                "compensated": list(instance.compensated),
                "failed_compensations": failed,
            }
        kind = "saga.compensation_failed" if failed else "saga.compensated"
        self._emit(kind, instance.correlation_id, instance.status, **data)

    def _compensate(self, step: str, compensate: Handler, event: Event) -> None:
        cid = self._correlation(event.type, event.data)
        with self._lock:
            instance = self.instances.get(cid)
        if instance is None or instance.status not in (
            SagaStatus.COMPENSATING, SagaStatus.COMPENSATION_FAILED,
        ):
            return
        attempts = 0

        first_failure: float | None = None
        span: Any = None

        def attempt() -> Any:
            nonlocal attempts, first_failure
            attempts += 1
            try:
                return compensate(event)
            except Exception:
                if first_failure is None:
                    first_failure = self.runtime.clock.time()
                raise

        try:
            with run_scope(cid), self.runtime.tracer.start_span(
                f"compensate:{step}", {"workflow": self.name, "saga.step": step, "saga.run_id": cid}
            ) as span:
                self.compensation_retry.call(
                    attempt, clock=self.runtime.clock, publish=self.bus.publish,
                    unit=f"{self.name}.{step}.compensate",
                )
        except Exception as exc:
            letter = self.runtime.dlq.add(
                source="handler", unit=f"{self.name}:{step}{COMPENSATE_SUFFIX}", error=exc,
                payload=dict(event.data), workflow=self.name, attempts=attempts, run_id=cid,
                trace_id=getattr(span, "trace_id", None), span_id=getattr(span, "span_id", None),
                event=event, first_failure=first_failure,
            )
            with self._lock:
                if step not in instance.failed_compensations:
                    instance.failed_compensations.append(step)
            self._emit("saga.compensation.failed", cid, instance.status, step=step,
                       attempts=attempts, letter_id=letter.id,
                       error_type=type(exc).__name__, error=error_message(exc))
        else:
            with self._lock:
                instance.compensated.append(step)
                if step in instance.failed_compensations:
                    instance.failed_compensations.remove(step)
            self._emit("saga.compensation.completed", cid, instance.status, step=step,
                       attempts=attempts)
        if instance.status is SagaStatus.COMPENSATING:
            self._next_compensation(instance)
        elif not instance.failed_compensations:
            self._settle(instance)

    def _emit(self, kind: str, cid: str, status: SagaStatus, **data: Any) -> None:
        data["status"] = status.value
        self.bus.publish(Event(kind, data, workflow=self.name, run_id=cid))
