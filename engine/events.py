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

# next() on itertools.count is atomic under the GIL: sequence numbers are
# unique and increasing across threads without a lock.
_sequence = itertools.count(1)

# Ids are "<process prefix>-<sequence in hex>": unique across processes that
# write one store, and free to compute until someone reads them.
_ID_PREFIX = f"{os.getpid():x}{int(time.time() * 1000) & 0xFFFFFF:06x}"


@dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class Event:
    """An immutable record of something that happened.

    ``Event(type, data)`` works as in the seed: ``id`` and ``timestamp`` are
    filled in (lazily). ``seq`` is a process-wide, strictly increasing number;
    ``ts`` the creation time in seconds since the epoch. ``workflow``,
    ``run_id``, ``trace_id`` and ``span_id`` correlate the event with a run and
    its trace. ``replay`` is true for an event redelivered by
    `EventBus.replay`, so handlers can skip side effects.
    """

    type: str
    data: Mapping[str, Any]
    seq: int
    ts: float
    workflow: str | None
    run_id: str | None
    trace_id: str | None
    span_id: str | None
    replay: bool
    _id: str | None
    _timestamp: str | None

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
        _set_workflow(self, workflow)
        _set_run_id(self, run_id)
        _set_trace_id(self, trace_id)
        _set_span_id(self, span_id)
        _set_replay(self, replay)
        _set_id(self, id)
        _set_timestamp(self, timestamp)

    @property
    def id(self) -> str:
        """A unique id: the one given at construction, or derived from `seq`."""
        given = self._id
        return given if given is not None else f"{_ID_PREFIX}-{self.seq:x}"

    @property
    def timestamp(self) -> str:
        """The creation time as an ISO 8601 string in UTC."""
        given = self._timestamp
        if given is not None:
            return given
        return datetime.fromtimestamp(self.ts, timezone.utc).isoformat()

    def as_replay(self) -> Event:
        """A copy of this event marked as redelivered (same id, seq and time)."""
        return Event(
            self.type,
            self.data,
            self._timestamp,
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
_set_workflow = Event.workflow.__set__  # type: ignore[attr-defined]
_set_run_id = Event.run_id.__set__  # type: ignore[attr-defined]
_set_trace_id = Event.trace_id.__set__  # type: ignore[attr-defined]
_set_span_id = Event.span_id.__set__  # type: ignore[attr-defined]
_set_replay = Event.replay.__set__  # type: ignore[attr-defined]
_set_id = Event._id.__set__  # type: ignore[attr-defined]
_set_timestamp = Event._timestamp.__set__  # type: ignore[attr-defined]
