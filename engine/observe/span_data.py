"""The data of a ``span.finished`` event: a read-only view of the finished span.

Building a fifteen-key dict for every finished span (`Span.to_dict`) was the
largest single cost of tracing a DAG run, which finishes one span per task
attempt: on the observability benchmark's 10,000-task DAG, publishing spans
as dicts added about 35% to the run, as views about 23%. A `SpanData` holds
only its span and reads a field when it is asked for, so a subscriber that
never looks (a counter, the metrics) pays nothing for the fields.

The event itself is a `SpanFinished`, an `Event` whose ``data`` slot holds
the span and whose ``data`` is a new `SpanData` on each read, so a finished
span costs one object less to publish and to keep in the event store.

A `SpanData` is a `Mapping` with exactly the keys and values of `Span.to_dict`:
JSON-ready values, ``attributes``, ``events`` and ``links`` built afresh on
each read (so no reader can change the span through it), equal to the dict
of the same content, pickled and copied as that dict. ``dict(data)`` or
``data.to_dict()`` gives a plain dict. The engine changes no span after it
has ended; code that keeps a span and changes it afterwards changes what
later readers of its event see.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..events import Event
from .spans import _json_attributes

if TYPE_CHECKING:
    from .spans import Span


def _duration(span: Span) -> float | None:
    end = span.end_time
    return None if end is None else end - span.start_time


def _events(span: Span) -> list[dict[str, Any]]:
    return [event.to_dict() for event in span.events]


def _links(span: Span) -> list[dict[str, Any]]:
    return [link.to_dict() for link in span.links]


def _attributes(span: Span) -> dict[str, Any]:
    return _json_attributes(span.attributes)


# In the order of `Span.to_dict`.
_GETTERS: dict[str, Callable[[Span], Any]] = {
    "trace_id": attrgetter("trace_id"),
    "span_id": attrgetter("span_id"),
    "parent_id": attrgetter("parent_id"),
    "name": attrgetter("name"),
    "kind": attrgetter("kind"),
    "start_time": attrgetter("start_time"),
    "end_time": attrgetter("end_time"),
    "duration": _duration,
    "status": attrgetter("status"),
    "status_message": attrgetter("status_message"),
    "attributes": _attributes,
    "events": _events,
    "links": _links,
    "run_id": attrgetter("run_id"),
    "workflow": attrgetter("workflow"),
}
KEYS = tuple(_GETTERS)


class SpanData(Mapping):
    """The fields of a finished span, read from it on demand (see the module docstring)."""

    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span

    def __getitem__(self, key: str) -> Any:
        getter = _GETTERS.get(key)
        if getter is None:
            raise KeyError(key)
        return getter(self.span)

    def get(self, key: str, default: Any = None) -> Any:
        getter = _GETTERS.get(key)
        return default if getter is None else getter(self.span)

    def __contains__(self, key: object) -> bool:
        return key in _GETTERS

    def __iter__(self) -> Iterator[str]:
        return iter(KEYS)

    def __len__(self) -> int:
        return len(KEYS)

    def to_dict(self) -> dict[str, Any]:
        """The same content as a plain dict."""
        return self.span.to_dict()

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self.span.to_dict(),))

    def __repr__(self) -> str:
        return f"SpanData({self.span.to_dict()!r})"


_span_of = Event.data.__get__  # type: ignore[attr-defined]


class SpanFinished(Event):
    """A ``span.finished`` event: its ``data`` slot holds the span, ``data`` is a `SpanData` of it.

    Made by `engine.events.correlated_event` (it adds no slots); pickles and
    copies as a plain `Event` whose data is the span's dict.
    """

    __slots__ = ()

    @property  # type: ignore[override]
    def data(self) -> SpanData:
        return SpanData(_span_of(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_plain_event, (self.type, self.data.to_dict(), self.seq, self.ts, self._correlation, self._given))


def _plain_event(
    type: str, data: dict[str, Any], seq: int, ts: float,
    correlation: tuple[Any, ...] | None, given: tuple[Any, ...] | None,
) -> Event:
    workflow, run_id, trace_id, span_id = correlation or (None, None, None, None)
    id_, timestamp, replay = given or (None, None, False)
    return Event(
        type, data, timestamp, id_, workflow=workflow, run_id=run_id, trace_id=trace_id,
        span_id=span_id, replay=replay, seq=seq, ts=ts,
    )
