"""Batched delivery: a subscriber that takes events a list at a time.

`BatchSubscription` is what `EventBus.subscribe(..., mode="batch")` attaches
in place of the handler. For each matching event a publisher makes one C
call, ``deque.append``: no Python frame, no lock. The bus hands the queued
events over, as one list, every `FLUSH_EVERY` events it publishes, and
whenever `BatchSubscription.flush` (or `EventBus.drain`) is called; the
handler runs on the thread that flushes.

It is for subscribers that derive something from every event and are read
now and then (the built-in metrics, which flush before every read), where a
Python call per event would be most of their cost. Events can wait in the
queue until the next flush: a subscriber that must react to each event as
it happens is a synchronous or an asynchronous one.

Locks: ``_lock`` lets one thread flush at a time, so batches reach the
handler in publishing order and never overlap; ``delivered`` and
``_flushing`` are written under it. It is reentrant so that a handler that
flushes (``bus.drain()`` from inside the handler) finds ``_flushing`` set
and returns, instead of waiting for itself. Appends need no lock (a
deque's appends and pops are atomic).
"""

from __future__ import annotations

import threading
from collections import deque
from itertools import repeat
from typing import TYPE_CHECKING, Any, Callable

from ..events import Event

if TYPE_CHECKING:
    from .event_bus import EventBus

# How many events the bus publishes between two flushes of its batch
# subscriptions; a power of two, so the check is one bitwise and.
FLUSH_EVERY = 1024
FLUSH_MASK = FLUSH_EVERY - 1

BatchHandler = Callable[[list[Event]], Any]
_popleft = deque.popleft


class BatchSubscription:
    """Queued events, handed to ``handler`` as lists (see the module docstring).

    ``append`` is what the bus calls for each event; `pending` is how many wait
    for the next flush and ``delivered`` how many the handler has been given.
    """

    def __init__(self, bus: EventBus, handler: BatchHandler, name: str) -> None:
        self.handler = handler
        self.name = name
        self.delivered = 0
        self._bus = bus
        self._queue: deque[Event] = deque()
        self.append = self._queue.append
        self._lock = threading.RLock()
        self._flushing = False

    @property
    def pending(self) -> int:
        return len(self._queue)

    def flush(self, wait: bool = True) -> int:
        """Hand every queued event to the handler now; returns how many.

        With ``wait=False`` a flush already under way on another thread is
        left to deliver them (returns 0), instead of being waited for.
        """
        if not self._lock.acquire(blocking=wait):
            return 0
        if self._flushing:  # the handler itself flushing: its events go next time
            self._lock.release()
            return 0
        self._flushing = True
        try:
            queue = self._queue
            # Pops only as many as were queued at this point: events appended
            # meanwhile wait for the next flush.
            batch = list(map(_popleft, repeat(queue, len(queue))))
            if not batch:
                return 0
            try:
                self.handler(batch)
            except Exception as exc:  # noqa: BLE001 - reported as an event
                self._bus._report_handler_error(self.handler, batch[0], exc)
            self.delivered += len(batch)
            return len(batch)
        finally:
            self._flushing = False
            self._lock.release()

    def __repr__(self) -> str:
        return f"BatchSubscription({self.name!r}, pending={self.pending}, delivered={self.delivered})"
