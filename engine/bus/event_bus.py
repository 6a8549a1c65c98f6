"""The event bus: publish/subscribe that every part of the engine rides on.

Design, and which lock guards what:

* Subscriptions live in copy-on-write tuples. ``_lock`` guards writers
  (subscribe, unsubscribe), the per-type routes (the handlers an event type
  reaches, cached) and the per-type counts; ``publish`` reads the current
  tuples without taking any lock.
* Every event published (not replayed) is counted by type, with a lock-free
  `engine.bus.tally.Tally` per type (`published_counts`): the built-in metrics'
  ``events_total`` reads these instead of handling every event.
* Delivery is breadth-first per publishing thread: each thread owns a FIFO
  of pending events (thread-local). An event published from inside a handler
  is appended to that FIFO and delivered after the current event has reached
  all of its handlers, so cascades never recurse and never grow the stack.
  Events published by one thread reach each synchronous subscriber in the
  order they were published.
* Synchronous handlers run on the publishing thread. A subscriber that may be
  slow (the console) asks for ``mode="async"``: its events go through a
  bounded `AsyncSubscription` queue (`engine.bus.async_delivery`) to a dispatcher
  thread of its own, with a stated overflow policy, so publishers never wait
  for it.
* A subscriber that aggregates what it gets (the metrics) asks for
  ``mode="batch"``: each event costs its publisher one ``deque.append``
  into a `BatchSubscription` (`engine.bus.batch_delivery`), and the queued events
  reach the handler as one list every ``FLUSH_EVERY`` events published
  (counted lock-free with ``_ticks``) and on `drain`.
* The in-memory event store is a bounded deque that publishers append to
  without a lock (a lock taken for every event by every worker of a DAG
  run made them queue on it). Each append is counted by two lock-free
  `engine.bus.tally.Tally` counts, one before it (``_begun``) and one after
  (``_ended``). A reader of absolute positions (`evicted`, `replay`) reads
  ``_ended``, copies the deque, reads ``_begun``, and retries until the two
  agree: then no append was under way and the copy holds exactly
  ``_ended`` events ever stored, so positions stay exact under concurrent
  publishers. ``_store_lock`` lets one reader do this at a time.

`SubscriptionError` is defined in `engine.bus.errors`; it, `AsyncSubscription`
and `OverflowPolicy` stay importable from here.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from typing import Any, Callable, Literal

from .async_delivery import AsyncSubscription, OverflowPolicy
from .batch_delivery import FLUSH_MASK, BatchSubscription
from .errors import SubscriptionError
from ..errors import FlowError
from ..events import Event
from .tally import Tally
from ..local_only import LocalOnly
from ..error_text import error_message

log = logging.getLogger("engine.bus")

Handler = Callable[[Event], Any]

HANDLER_ERROR = "handler.error"
DEFAULT_STORE_SIZE = 100_000


class _ThreadState:
    """One publishing thread's delivery state (kept in a ``threading.local``)."""

    __slots__ = ("pending", "dispatching", "replaying")

    def __init__(self) -> None:
        self.pending: deque[Event] = deque()
        self.dispatching = False
        self.replaying = False


class EventBus(LocalOnly):
    """Thread-safe publish/subscribe with topic patterns and event sourcing.

    Patterns: an exact type (``"task.failed"``), a prefix (``"saga.*"``
    matches ``saga.started`` and ``saga.step.failed``) or everything
    (``"*"``). A handler that raises never stops the others: the failure is
    published once as ``handler.error`` (its message made by
    `engine.error_text.error_message`, which never fails); a
    ``handler.error`` handler that raises is logged and not re-published. A
    handler that raises ``SystemExit`` or ``KeyboardInterrupt`` stops the
    delivery: the exception reaches the publisher and the events that
    delivery had queued on this thread are dropped (and logged), never left
    for a later publish.

    With ``enable_event_sourcing`` every published event is kept in
    ``event_store``, a deque bounded to ``store_size`` events (the oldest are
    evicted; ``evicted`` counts them). ``replay(from_position)`` redelivers
    stored events, marked ``replay=True``, without storing them again.
    """

    def _local_only_name(self) -> str:
        return "the event bus"

    def __init__(
        self, enable_event_sourcing: bool = False, store_size: int = DEFAULT_STORE_SIZE
    ) -> None:
        if store_size < 1:
            raise SubscriptionError(f"store_size must be at least 1, got {store_size}")
        self.enable_event_sourcing = enable_event_sourcing
        self.event_store: deque[Event] = deque(maxlen=store_size)
        self.store_size = store_size
        self._begun = Tally()
        self._ended = Tally()
        self._store_lock = threading.Lock()
        self._lock = threading.Lock()
        self._patterns: dict[str, tuple[Handler, ...]] = {}
        self._routes: dict[str, tuple[tuple[Handler, ...], Callable[[], Any]]] = {}
        self._counts: dict[str, Tally] = {}
        self._batches: tuple[BatchSubscription, ...] = ()
        self._ticks = itertools.count(1)
        self._local = threading.local()

    # -- subscriptions -------------------------------------------------

    @property
    def subscribers(self) -> dict[str, list[Handler]]:
        """A snapshot of every pattern and its handlers (the basic view)."""
        with self._lock:
            return {pattern: list(hs) for pattern, hs in self._patterns.items()}

    def subscribe(
        self,
        event_type: str,
        handler: Handler,
        *,
        mode: Literal["sync", "async", "batch"] = "sync",
        queue_size: int = 10_000,
        overflow: OverflowPolicy = "drop_oldest",
    ) -> Handler:
        """Subscribe ``handler`` to a pattern; returns what to unsubscribe.

        With ``mode="async"`` the handler runs on a dispatcher thread behind
        a bounded queue (see `AsyncSubscription`); the returned object is the
        `AsyncSubscription`, which also reports ``dropped`` and ``pending``.
        With ``mode="batch"`` the handler is called with lists of events
        (see `BatchSubscription`, which is returned).
        """
        if not isinstance(event_type, str) or not event_type:
            raise SubscriptionError(f"event pattern must be a non-empty string, got {event_type!r}")
        if not callable(handler):
            raise SubscriptionError(f"handler for {event_type!r} is not callable: {handler!r}")
        if mode not in ("sync", "async", "batch"):
            raise SubscriptionError(f"unknown delivery mode {mode!r} (use 'sync', 'async' or 'batch')")
        target: Handler = handler
        name = getattr(handler, "__qualname__", type(handler).__name__)
        if mode == "async":
            target = AsyncSubscription(self, handler, queue_size, overflow, name)
        elif mode == "batch":
            target = BatchSubscription(self, handler, name)
        with self._lock:
            self._patterns[event_type] = self._patterns.get(event_type, ()) + (target,)
            if isinstance(target, BatchSubscription):
                self._batches = self._batches + (target,)
            self._routes = {}
        return target

    def unsubscribe(self, event_type: str, handler: Handler) -> bool:
        """Remove one subscription of ``handler`` (or of its async wrapper).

        Returns False when there was no such subscription.
        """
        with self._lock:
            handlers = self._patterns.get(event_type, ())
            index = next(
                (
                    i
                    for i, h in enumerate(handlers)
                    # == rather than `is`: each access to a bound method
                    # (``seen.append``) builds a new, equal object.
                    if h == handler
                    or (isinstance(h, (AsyncSubscription, BatchSubscription)) and h.handler == handler)
                ),
                None,
            )
            if index is None:
                return False
            removed = handlers[index]
            remaining = handlers[:index] + handlers[index + 1 :]
            if remaining:
                self._patterns[event_type] = remaining
            else:
                del self._patterns[event_type]
            if isinstance(removed, BatchSubscription):
                self._batches = tuple(b for b in self._batches if b is not removed)
            self._routes = {}
        if isinstance(removed, AsyncSubscription):
            removed.close()
        elif isinstance(removed, BatchSubscription):
            removed.flush()  # what it queued before it left still reaches it
        return True

    def _route(self, event_type: str) -> tuple[tuple[Handler, ...], Callable[[], Any]]:
        """The handlers ``event_type`` reaches and the add of its count (cached)."""
        with self._lock:
            found: tuple[Handler, ...] = ()
            for pattern, hs in self._patterns.items():
                if pattern == event_type or (
                    pattern.endswith("*") and event_type.startswith(pattern[:-1])
                ):
                    found = found + tuple(
                        h.append if isinstance(h, BatchSubscription) else h for h in hs
                    )
            count = self._counts.get(event_type)
            if count is None:
                count = self._counts[event_type] = Tally()
            route = self._routes[event_type] = (found, count.add)
        return route

    def published_counts(self) -> dict[str, int]:
        """How many events of each type have been published (replays not counted)."""
        with self._lock:
            counts = list(self._counts.items())
        return {etype: n for etype, count in counts if (n := count.value())}

    # -- publishing ----------------------------------------------------

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every matching subscriber.

        Returns once the event (and whatever its handlers published on this
        thread) has reached every synchronous handler; asynchronous
        subscribers only have it queued.
        """
        try:
            state = self._local.state
        except AttributeError:
            state = self._init_thread()
        route = self._routes.get(event.type)
        if route is None:
            route = self._route(event.type)
        if not state.replaying:
            route[1]()
            if self.enable_event_sourcing:
                self._begun.add()
                self.event_store.append(event)
                self._ended.add()
        elif not event.replay:
            # What a handler publishes while the bus replays is part of the
            # replay: marked so, a consumer that skips replays skips it too.
            event = event.as_replay()
        if state.dispatching:
            state.pending.append(event)
            return
        # The common case, an event published outside any handler, is
        # delivered straight away; only a cascade goes through the FIFO.
        state.dispatching = True
        try:
            for handler in route[0]:
                try:
                    handler(event)
                except Exception as exc:  # noqa: BLE001 - reported as an event
                    self._report_handler_error(handler, event, exc)
            if self._batches and not next(self._ticks) & FLUSH_MASK:
                self._flush_batches()
            if state.pending:
                self._dispatch(state.pending)
        except BaseException:
            # SystemExit or KeyboardInterrupt from a handler goes to the
            # publisher; what the cascade had queued must not wait on this
            # thread for some later, unrelated publish to deliver it.
            self._drop_pending(state)
            raise
        finally:
            state.dispatching = False

    def _drop_pending(self, state: _ThreadState) -> None:
        dropped = len(state.pending)
        state.pending.clear()
        if dropped:
            log.warning("a handler stopped delivery with an exit or interrupt: %d queued event(s) dropped", dropped)

    def _stored_snapshot(self) -> tuple[list[Event], int]:
        """A copy of the stored events, and the absolute position of the first."""
        with self._store_lock:
            while True:
                ended = self._ended.value()
                events = list(self.event_store)
                begun = self._begun.value()
                if begun == ended:
                    return events, ended - len(events)
                time.sleep(0)  # an append is under way: let it finish

    def _init_thread(self) -> _ThreadState:
        state = self._local.state = _ThreadState()
        return state

    def emit(self, event_type: str, data: dict[str, Any] | None = None, **correlation: Any) -> Event:
        """Build an `Event` and publish it; returns the event."""
        event = Event(event_type, data, **correlation)
        self.publish(event)
        return event

    def _dispatch(self, pending: deque[Event]) -> None:
        popleft = pending.popleft
        while pending:
            event = popleft()
            route = self._routes.get(event.type)
            if route is None:
                route = self._route(event.type)
            for handler in route[0]:
                try:
                    handler(event)
                except Exception as exc:  # noqa: BLE001 - reported as an event
                    self._report_handler_error(handler, event, exc)
            if self._batches and not next(self._ticks) & FLUSH_MASK:
                self._flush_batches()

    def _flush_batches(self) -> None:
        # A publisher's flush: one that finds another thread flushing leaves
        # the events to it rather than wait.
        for subscription in self._batches:
            subscription.flush(wait=False)

    def _report_handler_error(self, handler: Handler, event: Event, exc: Exception) -> None:
        name = getattr(handler, "__qualname__", None) or type(handler).__name__
        # Formatted here, never by logging later: an error's __str__ may raise.
        message = error_message(exc)
        if event.type == HANDLER_ERROR:
            log.error(
                "handler %s failed on handler.error event %s: %s: %s",
                name, event.id, type(exc).__name__, message,
            )
            return
        log.warning(
            "handler %s failed on %s event %s: %s: %s",
            name, event.type, event.id, type(exc).__name__, message,
        )
        self.publish(
            Event(
                HANDLER_ERROR,
                {
                    "handler": name,
                    "event_id": event.id,
                    "event_type": event.type,
                    "error_type": type(exc).__name__,
                    "error": message,
                },
                workflow=event.workflow,
                run_id=event.run_id,
                trace_id=event.trace_id,
            )
        )

    # -- replay and lifecycle ------------------------------------------

    @property
    def evicted(self) -> int:
        """How many stored events the bound has pushed out of the store."""
        return self._stored_snapshot()[1]

    def replay(self, from_position: int = 0) -> int:
        """Redeliver stored events from an absolute position; returns how many.

        Redelivered events carry ``replay=True`` and are not stored again; the
        events their handlers publish during the replay are marked
        ``replay=True`` too, and neither stored nor counted, so a replay
        leaves the store as it found it and a consumer that skips replays
        repeats no side effect. An asynchronous subscriber's handler of a
        replayed event publishes as part of the replay as well. Positions count from the first event
        ever stored; evicted positions are skipped.
        """
        if not self.enable_event_sourcing:
            raise FlowError("Event sourcing not enabled: there is nothing to replay")
        if from_position < 0:
            raise FlowError(f"replay position must be >= 0, got {from_position}")
        stored, first = self._stored_snapshot()
        events = stored[max(0, from_position - first):]
        self._replaying(lambda: [self.publish(event.as_replay()) for event in events])
        return len(events)

    def _replaying(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn()`` as part of a replay: what it publishes on this thread
        is marked ``replay=True`` and is neither stored nor counted."""
        try:
            state = self._local.state
        except AttributeError:
            state = self._init_thread()
        outer = state.replaying
        state.replaying = True
        try:
            return fn()
        finally:
            state.replaying = outer

    def async_subscriptions(self) -> list[AsyncSubscription]:
        """The asynchronous subscriptions currently attached."""
        with self._lock:
            return [
                h
                for hs in self._patterns.values()
                for h in hs
                if isinstance(h, AsyncSubscription)
            ]

    def drain(self, timeout: float | None = 5.0) -> bool:
        """Deliver the queued batches; wait until every asynchronous subscriber has caught up."""
        for batch in self._batches:
            batch.flush()
        return all(sub.drain(timeout) for sub in self.async_subscriptions())

    def close(self) -> None:
        """Deliver the queued batches; stop every asynchronous dispatcher after it delivers its queue."""
        for batch in self._batches:
            batch.flush()
        for sub in self.async_subscriptions():
            sub.close()
