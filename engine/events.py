"""The engine's event value: one immutable record per state change.

An `Event` is created on hot paths (every task transition, every span), so
construction does the minimum: it stores its fields, takes a sequence number
from a process-wide counter and reads the wall clock once. The string forms
that are expensive to build (the id and the ISO timestamp) are derived on
first access from those two numbers.

Every event type the engine publishes is listed, with its data fields, in
``docs/events.md``.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

_EMPTY: Mapping[str, Any] = {}
_NO_CORRELATION = (None, None, None, None)

# next() on itertools.count is atomic under the GIL: sequence numbers are
# unique and increasing across threads without a lock.
_sequence = itertools.count(1)

# Ids are "<process prefix>-<sequence in hex>": unique across processes that
# write one store, and free to compute until someone reads them.
_ID_PREFIX = f"{os.getpid():x}{int(time.time() * 1000) & 0xFFFFFF:06x}"


@dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class Event:
    """An immutable record of something that happened.

    ``Event(type, data)`` works as in the basic API: ``id`` and ``timestamp`` are
    filled in (lazily). ``seq`` is a process-wide, strictly increasing number;
    ``ts`` the creation time in seconds since the epoch. ``workflow``,
    ``run_id``, ``trace_id`` and ``span_id`` correlate the event with a run and
    its trace. ``replay`` is true for an event redelivered by
    `EventBus.replay`, so handlers can skip side effects.

    The correlation fields live in one tuple slot (None when all are unset),
    and the rarely given id, timestamp and replay flag in another: every slot
    costs a store at construction, and events are built on hot paths.
    """

    type: str
    data: Mapping[str, Any]
    seq: int
    ts: float
    _correlation: tuple[str | None, str | None, str | None, str | None] | None
    _given: tuple[str | None, str | None, bool] | None

    def __init__(
        self,
        type: str,
        data: Mapping[str, Any] | None = None,
        timestamp: str | None = None,
        id: str | None = None,
        *,
        workflow: str | None = None,
        run_id: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        replay: bool = False,
        seq: int | None = None,
        ts: float | None = None,
    ) -> None:
        # Slot descriptors bypass the frozen __setattr__, which costs a
        # Python-level call per field; this keeps construction cheap.
        _set_type(self, type)
        _set_data(self, _EMPTY if data is None else data)
        _set_seq(self, next(_sequence) if seq is None else seq)
        _set_ts(self, time.time() if ts is None else ts)
        _set_correlation(
            self,
            (workflow, run_id, trace_id, span_id)
            if workflow is not None or run_id is not None or trace_id is not None or span_id is not None
            else None,
        )
        _set_given(
            self,
            (id, timestamp, replay) if id is not None or timestamp is not None or replay else None,
        )

    @property
    def workflow(self) -> str | None:
        """The workflow this event belongs to, if any."""
        c = self._correlation
        return None if c is None else c[0]

    @property
    def run_id(self) -> str | None:
        """The run this event belongs to, if any."""
        c = self._correlation
        return None if c is None else c[1]

    @property
    def trace_id(self) -> str | None:
        """The trace (32 hex digits) this event belongs to, if any."""
        c = self._correlation
        return None if c is None else c[2]

    @property
    def span_id(self) -> str | None:
        """The span (16 hex digits) this event belongs to, if any."""
        c = self._correlation
        return None if c is None else c[3]

    @property
    def replay(self) -> bool:
        """True for an event redelivered by `EventBus.replay`."""
        g = self._given
        return g is not None and g[2]

    @property
    def id(self) -> str:
        """A unique id: the one given at construction, or derived from `seq`."""
        g = self._given
        if g is not None and g[0] is not None:
            return g[0]
        return f"{_ID_PREFIX}-{self.seq:x}"

    @property
    def timestamp(self) -> str:
        """The creation time as an ISO 8601 string in UTC."""
        g = self._given
        if g is not None and g[1] is not None:
            return g[1]
        return datetime.fromtimestamp(self.ts, timezone.utc).isoformat()

    def fields(self) -> tuple[Any, ...]:
        """``(id, type, ts, workflow, run_id, trace_id, span_id)`` in one call.

        For code that reads every field of many events (the store's writer
        path): one call instead of five property lookups.
        """
        g = self._given
        id_ = g[0] if g is not None and g[0] is not None else f"{_ID_PREFIX}-{self.seq:x}"
        return (id_, self.type, self.ts, *(self._correlation or _NO_CORRELATION))

    def as_replay(self) -> Event:
        """A copy of this event marked as redelivered (same id, seq and time)."""
        g = self._given
        return Event(
            self.type,
            self.data,
            None if g is None else g[1],
            self.id,
            workflow=self.workflow,
            run_id=self.run_id,
            trace_id=self.trace_id,
            span_id=self.span_id,
            replay=True,
            seq=self.seq,
            ts=self.ts,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of every field (data is passed through as is)."""
        return {
            "id": self.id,
            "seq": self.seq,
            "type": self.type,
            "timestamp": self.timestamp,
            "ts": self.ts,
            "workflow": self.workflow,
            "run_id": self.run_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "replay": self.replay,
            "data": dict(self.data),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return self.id == other.id and self.replay == other.replay

    def __hash__(self) -> int:
        return hash((self.id, self.replay))

    def __repr__(self) -> str:
        return f"Event(type={self.type!r}, seq={self.seq}, data={dict(self.data)!r})"


_set_type = Event.type.__set__  # type: ignore[attr-defined]
_set_data = Event.data.__set__  # type: ignore[attr-defined]
_set_seq = Event.seq.__set__  # type: ignore[attr-defined]
_set_ts = Event.ts.__set__  # type: ignore[attr-defined]
_set_correlation = Event._correlation.__set__  # type: ignore[attr-defined]
_set_given = Event._given.__set__  # type: ignore[attr-defined]

_time = time.time


class _Draft:
    """An `Event` being filled in by `correlated_event`: the same slots, not frozen."""

    __slots__ = Event.__slots__


def correlated_event(
    type: str,
    data: Any,
    correlation: tuple[str | None, str | None, str | None, str | None],
    cls: type[Event] = Event,
) -> Event:
    """``Event(type, data, workflow=..., run_id=..., trace_id=..., span_id=...)``
    from a ready-made ``(workflow, run_id, trace_id, span_id)`` tuple.

    For the engine's hottest paths (every task attempt, every span). A frozen
    instance can only be filled through its slot descriptors, a call each;
    a `_Draft`, which has the same slots in the same order, is filled with
    plain stores and then becomes an `Event` by ``__class__`` assignment
    (CPython allows it between classes of the same layout). That halves the
    cost of making an event. ``cls`` is a subclass of `Event` that adds no
    slots (`engine.observe.span_data.SpanFinished`), whose ``data`` slot may hold
    what its ``data`` is made from.
    """
    event = _Draft()
    event.type = type
    event.data = data
    event.seq = next(_sequence)
    event.ts = _time()
    event._correlation = correlation
    event._given = None
    event.__class__ = cls  # type: ignore[assignment]
    return event  # type: ignore[return-value]
