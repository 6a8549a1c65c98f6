"""Asynchronous delivery: one slow subscriber behind a bounded queue and a thread.

`AsyncSubscription` is what `EventBus.subscribe(..., mode="async")` attaches
in place of the handler: publishers only append the event to its queue, and a
dispatcher thread of its own calls the handler, so a slow subscriber (the
console) never holds up a publisher. `OverflowPolicy` names what happens when
the queue is full. A handler that raises (or calls ``sys.exit``) is reported
through the bus that owns the subscription, as for a synchronous handler; if
reporting fails too, that is logged: the dispatcher thread never dies of one
event. A handler of a replayed event publishes as part of the replay
(`EventBus._replaying`).

Locks: each subscription's ``_cond`` guards its queue, ``_closed``,
``_idle`` and ``dropped``; ``delivered`` is written by the dispatcher thread
alone, and the handler runs outside the lock.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Literal

from .errors import SubscriptionError
from ..events import Event

if TYPE_CHECKING:
    from .event_bus import EventBus, Handler

log = logging.getLogger("engine.bus")

OverflowPolicy = Literal["drop_oldest", "drop_newest", "block"]


class AsyncSubscription:
    """A bounded queue between publishers and one slow handler.

    Publishers only append; one daemon thread drains the queue and calls the
    handler. When the queue is full the ``overflow`` policy decides:

    * ``"drop_oldest"`` (default): the oldest queued event is discarded to make
      room, so the handler always sees the most recent events.
    * ``"drop_newest"``: the new event is discarded.
    * ``"block"``: the publisher waits for room (only for subscribers that must
      see everything and are known to keep up).

    Every discarded event is counted in ``dropped``. ``_cond`` guards the queue
    and the counters.
    """

    def __init__(
        self,
        bus: EventBus,
        handler: Handler,
        maxsize: int,
        overflow: OverflowPolicy,
        name: str,
    ) -> None:
        if maxsize < 1:
            raise SubscriptionError(f"queue size must be at least 1, got {maxsize}")
        if overflow not in ("drop_oldest", "drop_newest", "block"):
            raise SubscriptionError(f"unknown overflow policy {overflow!r}")
        self.handler = handler
        self.maxsize = maxsize
        self.overflow = overflow
        self.name = name
        self.delivered = 0
        self.dropped = 0
        self._bus = bus
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._idle = True
        self._thread = threading.Thread(
            target=self._run, name=f"bus-async-{name}", daemon=True
        )
        self._thread.start()

    def __call__(self, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            queue = self._queue
            if len(queue) >= self.maxsize:
                if self.overflow == "drop_newest":
                    self.dropped += 1
                    return
                if self.overflow == "drop_oldest":
                    queue.popleft()
                    self.dropped += 1
                else:
                    while len(queue) >= self.maxsize and not self._closed:
                        self._cond.wait()
            queue.append(event)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """How many events wait in the queue."""
        return len(self._queue)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and the handler idle; True if it is."""
        with self._cond:
            return self._cond.wait_for(
                lambda: (not self._queue and self._idle) or self._closed, timeout
            )

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the dispatcher thread once the queued events are delivered."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        cond = self._cond
        queue = self._queue
        while True:
            with cond:
                self._idle = True
                cond.notify_all()
                while not queue and not self._closed:
                    cond.wait()
                if not queue:
                    return
                batch = list(queue)
                queue.clear()
                self._idle = False
                cond.notify_all()
            for event in batch:
                if event.replay:
                    self._bus._replaying(lambda event=event: self._deliver(event))
                else:
                    self._deliver(event)
                self.delivered += 1

    def _deliver(self, event: Event) -> None:
        try:
            self.handler(event)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, never fatal
            self._report(event, exc)

    def _report(self, event: Event, exc: BaseException) -> None:
        """Report a handler's failure; a report that fails too is logged, and the thread goes on."""
        try:
            self._bus._report_handler_error(self.handler, event, exc)
        except Exception:  # noqa: BLE001 - the dispatcher serves the next event whatever happens
            log.exception("reporting a failure of async subscriber %s on event %s failed", self.name, event.id)
