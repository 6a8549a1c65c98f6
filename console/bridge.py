"""The bus-to-UI bridge: the only place engine threads hand anything to the UI.

Publishers call `EventBridge.on_event` on their own threads (a plain
synchronous ``"*"`` subscription). It only appends to a bounded deque, so it
never blocks and never touches the UI; when the deque is full the oldest
event is dropped and counted. The UI drains the deque with one timer five
times a second (`pump`), hands the whole batch to every registered
reducer, and learns which ones changed, so it refreshes each changed view
once per frame however many events arrived: a flood costs the UI a fixed
amount of work per frame.

On `attach`, the events the bus already holds (``bus.event_store``: what
happened before the console started) are replayed into the reducers first.

Thread safety: ``deque.append`` and ``popleft`` are atomic, so the buffer
needs no lock; ``_drop_lock`` guards only the dropped counter, taken on the
overflow path alone.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Sequence

from engine import Event, EventBus

from .state import ViewState

DEFAULT_CAPACITY = 50_000
DEFAULT_MAX_BATCH = 50_000
# Drains during which events already replayed from the store are skipped if
# they also arrive live (published while the store was being read).
_OVERLAP_DRAINS = 20


class EventBridge:
    """A bounded buffer between the bus and the view-state reducers."""

    def __init__(
        self,
        bus: EventBus | None = None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"bridge capacity must be at least 1, got {capacity}")
        self.bus = bus
        self.capacity = capacity
        self.max_batch = max_batch
        self.received = 0
        self.delivered = 0
        self.dropped = 0
        self._buffer: deque[Event] = deque(maxlen=capacity)
        self._drop_lock = threading.Lock()
        self._reducers: list[ViewState] = []
        self._backlog: list[Event] = []
        self._replayed: set[int] = set()
        self._overlap_drains = 0
        self._attached = False

    # -- engine side (any thread) -----------------------------------------

    def on_event(self, event: Event) -> None:
        """The bus handler: append, never block; count what the cap drops."""
        buffer = self._buffer
        if len(buffer) >= self.capacity:
            with self._drop_lock:
                self.dropped += 1
        buffer.append(event)

    # -- UI side ------------------------------------------------------------

    def register(self, reducer: ViewState) -> None:
        """Feed ``reducer`` every batch from now on (and the backlog, once)."""
        self._reducers.append(reducer)
        if self._backlog:
            reducer.apply(self._backlog)

    def attach(self, bus: EventBus | None = None) -> None:
        """Subscribe to ``"*"`` on the bus, then queue what its store already holds."""
        if bus is not None:
            self.bus = bus
        if self.bus is None:
            raise ValueError("EventBridge.attach needs a bus")
        if self._attached:
            return
        self.bus.subscribe("*", self.on_event)
        self._attached = True
        stored = list(self.bus.event_store)
        if stored:
            self._replayed = {event.seq for event in stored}
            self._overlap_drains = _OVERLAP_DRAINS
            self.feed(stored)

    def detach(self) -> None:
        """Stop listening to the bus."""
        if self._attached and self.bus is not None:
            self.bus.unsubscribe("*", self.on_event)
        self._attached = False

    def feed(self, events: Sequence[Event]) -> None:
        """Hand already-recorded events straight to the reducers (UI thread).

        Used for the store replay and for recorded events in tests; reducers
        registered later get them too.
        """
        events = list(events)
        self._backlog.extend(events)
        for reducer in self._reducers:
            reducer.apply(events)

    def take(self) -> list[Event]:
        """Remove and return what is buffered (at most ``max_batch`` events)."""
        buffer = self._buffer
        count = min(len(buffer), self.max_batch)
        popleft = buffer.popleft
        batch: list[Event] = []
        append = batch.append
        # Only this method removes events, so ``count`` are there to take.
        for _ in range(count):
            append(popleft())
        self.received += len(batch)
        if self._overlap_drains:
            self._overlap_drains -= 1
            replayed = self._replayed
            batch = [e for e in batch if e.seq not in replayed]
            if not self._overlap_drains:
                self._replayed = set()
        return batch

    def pump(self) -> list[ViewState]:
        """One drain: apply the buffered batch; returns the reducers that changed.

        A drain that brought nothing calls no reducer: what moves with the
        clock alone is redrawn by the app's clock tick.
        """
        # The backlog only serves reducers registered before the first drain.
        self._backlog = []
        batch = self.take()
        if not batch:
            return []
        self.delivered += len(batch)
        return [reducer for reducer in self._reducers if reducer.apply(batch)]

    @property
    def pending(self) -> int:
        """Events waiting for the next drain."""
        return len(self._buffer)
