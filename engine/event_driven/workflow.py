"""Event-driven workflows: handlers that react to events and emit more.

The basic `EventDrivenWorkflow` API: ``on_event`` registers a handler,
``emit`` publishes, ``state`` is a dict the handlers share, and
``event_bus`` is an event-sourced bus that can be replayed. Cascades are
delivered breadth-first by the bus, so a long chain of handlers that emit
never recurses.

Handlers are units of work like any other: ``on_event(type, retry=policy)``
retries a failing handler (waiting through the runtime's clock, on the
delivering thread), and a handler that fails for good is dead-lettered once
(source ``"handler"``, with the event) before its error goes on to the bus as
``handler.error``. Events redelivered by ``EventBus.replay`` are not
dead-lettered again. The runtime's queue can retry such a letter (the
handler runs once more on the stored event, with the *current* definition of
the workflow) and replay it (the event is published again on the bus the
handler listens on).
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import uuid
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..bus.event_bus import EventBus, Handler
from ..errors import FlowError
from ..events import Event
from ..resilience.retry import RetryPolicy
from ..observe.trace_context import current_run_id, current_span, run_scope
from .errors import HandlerNotFound

if TYPE_CHECKING:
    from ..resilience.dlq.letter import DeadLetter
    from ..runtime import Runtime

log = logging.getLogger("engine.event_driven")

HANDLER_SOURCE = "handler"


@dataclass(frozen=True, slots=True)
class HandlerRegistration:
    """One ``on_event`` registration: the pattern, the function, its policy."""

    pattern: str
    func: Handler
    retry: RetryPolicy | None
    name: str

    def matches(self, event_type: str) -> bool:
        pattern = self.pattern
        return pattern == event_type or (pattern.endswith("*") and event_type.startswith(pattern[:-1]))


class EventDrivenWorkflow:
    """Loosely coupled handlers joined by an event-sourced bus.

    Outside an engine the workflow has a bus of its own with event sourcing
    on, as in the basic API. Where a runtime is current (a workflow file's
    builder, a run) the workflow listens on that runtime's bus, the engine's,
    so it gets the engine's events. Pass ``bus=`` to choose one. ``subscriptions`` lists the (pattern,
    handler) pairs subscribed, so a loader can detach them on unload;
    ``handlers`` the registrations behind them. Retries, dead letters and
    their events go to ``runtime`` (the current runtime by default).
    """

    def __init__(
        self, name: str | None = None, bus: EventBus | None = None, *, runtime: Runtime | None = None
    ) -> None:
        from ..runtime import context_runtime, current_runtime

        in_engine = context_runtime() is not None
        if runtime is None:
            runtime = current_runtime()
        if bus is None and in_engine:
            bus = runtime.bus
        self.name = name
        self.runtime = runtime
        self.event_bus = bus if bus is not None else EventBus(enable_event_sourcing=True)
        self.state: dict[str, Any] = {}
        self.subscriptions: list[tuple[str, Handler]] = []
        self.handlers: list[HandlerRegistration] = []
        _directory_for(runtime).add(self)

    def on_event(
        self, event_type: str, retry: RetryPolicy | None = None, *, dead_letter: bool = True
    ) -> Callable[[Handler], Handler]:
        """Decorator: run the decorated function for every matching event.

        ``retry`` retries a failing call; once it fails for good the event is
        dead-lettered (unless ``dead_letter=False``) and the error reported
        as ``handler.error``.
        """
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise FlowError(f"on_event({event_type!r}): retry must be a RetryPolicy or None, got {retry!r}")

        def decorator(func: Handler) -> Handler:
            name = getattr(func, "__qualname__", None) or repr(func)
            registration = HandlerRegistration(event_type, func, retry, name)
            wrapper = self._wrap(registration, dead_letter)
            self.event_bus.subscribe(event_type, wrapper)
            self.subscriptions.append((event_type, wrapper))
            self.handlers.append(registration)
            return func

        return decorator

    def emit(self, event_type: str, data: dict[str, Any] | None = None) -> Event:
        """Publish an event of ``event_type`` carrying ``data``."""
        event = Event(event_type, data if data is not None else {}, workflow=self.name)
        self.event_bus.publish(event)
        return event

    def detach(self) -> None:
        """Unsubscribe every handler this workflow registered."""
        for pattern, handler in self.subscriptions:
            self.event_bus.unsubscribe(pattern, handler)
        self.subscriptions.clear()
        self.handlers.clear()

    def handler_for(self, name: str, event_type: str) -> HandlerRegistration | None:
        """The registration of handler ``name`` that takes ``event_type`` events, if any."""
        for registration in reversed(self.handlers):
            if registration.name == name and registration.matches(event_type):
                return registration
        return None

    # -- resilience ----------------------------------------------------

    def _wrap(self, registration: HandlerRegistration, dead_letter: bool) -> Handler:
        func = registration.func
        policy = registration.retry
        runtime = self.runtime
        workflow = self.name
        span_name = f"handler {registration.name}"

        def give_up(event: Event, error: BaseException, attempts: int, first: float | None) -> None:
            if dead_letter and not event.replay:
                self._dead_letter(registration, event, error, attempts, first)

        if policy is None:
            def attempt(event: Event) -> Any:
                try:
                    return func(event)
                except Exception as exc:
                    give_up(event, exc, 1, None)
                    raise
        else:
            def attempt(event: Event) -> Any:
                first: list[float] = []

                def once() -> Any:
                    try:
                        return func(event)
                    except Exception:
                        if not first:
                            first.append(runtime.clock.time())
                        raise

                return policy.call(
                    once,
                    clock=runtime.clock,
                    publish=runtime.bus.publish,
                    unit=registration.name,
                    on_give_up=lambda error, attempts: give_up(
                        event, error, attempts, first[0] if first else None
                    ),
                    workflow=workflow,
                    run_id=event.run_id,
                )

        def handle(event: Event) -> Any:
            # Each call is a unit of work of its own: the event's run (or a
            # run id of its own) and a span, so that what it publishes and the
            # letter it may leave can be traced back to it.
            links = ((event.trace_id, event.span_id),) if event.trace_id and event.span_id else ()
            with run_scope(event.run_id or uuid.uuid4().hex[:16]), runtime.tracer.start_span(
                span_name,
                {"workflow": workflow, "handler": registration.name, "event_type": event.type},
                kind="consumer",
                links=links,
            ):
                return attempt(event)

        return functools.wraps(func)(handle) if hasattr(func, "__name__") else handle

    def _dead_letter(
        self,
        registration: HandlerRegistration,
        event: Event,
        error: BaseException,
        attempts: int,
        first_failure: float | None,
    ) -> None:
        runtime = self.runtime
        version = runtime.definitions.generation(self.name) if self.name else 0
        span = current_span()
        try:
            runtime.dlq.add(
                source=HANDLER_SOURCE,
                unit=registration.name,
                error=error,
                payload=dict(event.data),
                workflow=self.name,
                definition_version=version or None,
                attempts=attempts,
                run_id=current_run_id(),
                trace_id=span.trace_id if span is not None else event.trace_id,
                span_id=span.span_id if span is not None else event.span_id,
                event=event,
                first_failure=first_failure,
            )
        except Exception:  # noqa: BLE001 - a broken queue must not stop delivery
            log.exception("workflow %r: could not dead-letter handler %s", self.name, registration.name)


class _Directory:
    """The live event-driven workflows of one runtime, newest last.

    A dead letter names its workflow and handler; the directory finds the
    workflow when the definition table does not hold it (workflows built
    outside a workflow file). Entries are weak, so it keeps nothing alive.
    ``_lock`` guards ``_live``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: weakref.WeakValueDictionary[int, EventDrivenWorkflow] = weakref.WeakValueDictionary()
        self._keys = itertools.count()

    def add(self, workflow: EventDrivenWorkflow) -> None:
        with self._lock:
            self._live[next(self._keys)] = workflow

    def newest_first(self) -> list[EventDrivenWorkflow]:
        with self._lock:
            return list(reversed(list(self._live.values())))


_directories_lock = threading.Lock()
_directories: weakref.WeakKeyDictionary[Any, _Directory] = weakref.WeakKeyDictionary()


def _directory_for(runtime: Runtime) -> _Directory:
    with _directories_lock:
        directory = _directories.get(runtime)
        if directory is not None:
            return directory
        directory = _directories[runtime] = _Directory()
    queue = runtime.dlq
    queue.register_retrier(HANDLER_SOURCE, functools.partial(_retry_letter, weakref.ref(runtime)))
    queue.register_replayer(HANDLER_SOURCE, functools.partial(_replay_letter, weakref.ref(runtime)))
    return directory


def _home(runtime: Runtime, letter: DeadLetter) -> tuple[EventDrivenWorkflow, HandlerRegistration]:
    """The current workflow and handler registration a handler letter names."""
    event_type = (letter.event or {}).get("type", "")
    candidates: list[EventDrivenWorkflow] = []
    if letter.workflow:
        current = runtime.definitions.get(letter.workflow)
        if isinstance(current, EventDrivenWorkflow):
            candidates.append(current)
    candidates.extend(
        w for w in _directory_for(runtime).newest_first() if w.name == letter.workflow
    )
    for workflow in candidates:
        registration = workflow.handler_for(letter.unit, event_type)
        if registration is not None:
            return workflow, registration
    raise HandlerNotFound(letter.id, letter.workflow, letter.unit, event_type)


def _stored_event(letter: DeadLetter) -> Event:
    original = letter.event or {}
    data = letter.payload if isinstance(letter.payload, dict) else {"payload": letter.payload}
    return Event(
        original.get("type", ""),
        data,
        workflow=original.get("workflow"),
        run_id=original.get("run_id"),
        trace_id=original.get("trace_id"),
        span_id=original.get("span_id"),
    )


def _retry_letter(runtime_ref: weakref.ref[Runtime], letter: DeadLetter) -> Any:
    """Run the letter's handler once more on its stored event (the letter's payload as data)."""
    runtime = runtime_ref()
    if runtime is None:
        raise FlowError(f"dead letter {letter.id!r}: its runtime is gone")
    _, registration = _home(runtime, letter)
    return registration.func(_stored_event(letter))


def _replay_letter(runtime_ref: weakref.ref[Runtime], letter: DeadLetter, event: Event) -> None:
    """Publish a replayed handler event on the bus its workflow listens on."""
    runtime = runtime_ref()
    if runtime is None:
        raise FlowError(f"dead letter {letter.id!r}: its runtime is gone")
    workflow, _ = _home(runtime, letter)
    workflow.event_bus.publish(event)
