"""Spans and what they carry: `Span`, `SpanEvent`, `Link`.

A `Span` is made by `engine.observe.tracing.Tracer.start_span` and is its own
context manager. Its hot path (start, enter, exit, publish) avoids every
allocation it can: spans are slotted, and a span without events or links
shares one empty tuple for each.
"""

from __future__ import annotations

import contextvars
import traceback
from time import time as _wall
from typing import TYPE_CHECKING, Any, Mapping

from .trace_context import _current_span
from ..error_text import error_line, error_message
from .errors import TracingError

if TYPE_CHECKING:
    from .tracing import Tracer

_PRIMITIVES = (str, int, float, bool, type(None))
_PRIMITIVE_TYPES = frozenset(_PRIMITIVES)
# A span without events or links shares this empty tuple: an empty list per
# span would be one more object for the garbage collector to track, and
# finished spans are kept by the thousand.
_NONE: tuple = ()


def _json_value(value: Any) -> Any:
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def _json_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    for value in attributes.values():
        if value.__class__ not in _PRIMITIVE_TYPES:
            return {str(k): _json_value(v) for k, v in attributes.items()}
    return dict(attributes)


class SpanEvent:
    """Something that happened at one instant inside a span."""

    __slots__ = ("name", "timestamp", "attributes")

    def __init__(self, name: str, timestamp: float, attributes: dict[str, Any] | None = None) -> None:
        self.name = name
        self.timestamp = timestamp
        self.attributes = attributes if attributes is not None else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timestamp": self.timestamp,
            "attributes": _json_attributes(self.attributes),
        }

    def __repr__(self) -> str:
        return f"SpanEvent({self.name!r}, {self.timestamp!r}, {self.attributes!r})"


class Link:
    """A reference from a span to a span of another (usually earlier) trace."""

    __slots__ = ("trace_id", "span_id", "attributes")

    def __init__(self, trace_id: str, span_id: str, attributes: dict[str, Any] | None = None) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.attributes = attributes if attributes is not None else {}

    @classmethod
    def coerce(cls, value: Any) -> Link:
        """A `Link` from a Link, a Span, a ``(trace_id, span_id[, attributes])``
        tuple or a mapping with those keys."""
        if isinstance(value, Link):
            return value
        if isinstance(value, Span):
            return cls(value.trace_id, value.span_id)
        if isinstance(value, Mapping) and value.get("trace_id") and value.get("span_id"):
            return cls(value["trace_id"], value["span_id"], dict(value.get("attributes") or {}))
        if isinstance(value, tuple) and len(value) in (2, 3) and value[0] and value[1]:
            return cls(value[0], value[1], dict(value[2]) if len(value) == 3 else None)
        raise TracingError(
            f"cannot link to {value!r}: give a Link, a Span, (trace_id, span_id[, attributes]) "
            "or a mapping with trace_id and span_id"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "attributes": _json_attributes(self.attributes),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Link):
            return NotImplemented
        return (self.trace_id, self.span_id, self.attributes) == (
            other.trace_id, other.span_id, other.attributes
        )

    def __repr__(self) -> str:
        return f"Link({self.trace_id!r}, {self.span_id!r}, {self.attributes!r})"


class Span:
    """One timed operation in a trace.

    Made by `Tracer.start_span`; entering it (``with``) makes it the current
    span of the context, leaving it ends it. An exception raised in the block
    marks it ``status="error"``, records the exception as a span event and
    propagates. A span is changed only by the thread that runs its block.
    ``events`` and ``links`` are sequences: an empty tuple until the first
    `add_event` / `add_link` makes them a list.
    """

    __slots__ = (
        "trace_id", "span_id", "parent_id", "name", "kind", "start_time", "end_time",
        "attributes", "status", "status_message", "events", "links", "run_id",
        "workflow", "_tracer", "_mono_start", "_ended", "_token",
    )

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        name: str,
        start_time: float | None = None,
        end_time: float | None = None,
        attributes: dict[str, Any] | None = None,
        status: str = "ok",
        *,
        kind: str = "internal",
        events: list[SpanEvent] | None = None,
        links: list[Link] | None = None,
        run_id: str | None = None,
        workflow: str | None = None,
        tracer: Tracer | None = None,
        mono_start: float | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self._tracer = tracer
        if start_time is None:
            start_time = tracer._time() if tracer is not None else _wall()
        self.start_time = start_time
        self.end_time = end_time
        self.attributes = attributes if attributes is not None else {}
        self.status = status
        self.status_message: str | None = None
        self.events = list(events) if events else _NONE
        self.links = list(links) if links else _NONE
        self.run_id = run_id
        self.workflow = workflow
        self._mono_start = mono_start
        self._ended = False
        self._token: contextvars.Token | None = None

    # -- the basic API ---------------------------------------------------

    def finish(self) -> None:
        """Stop the clock (the basic API's name); `end` also publishes the span."""
        if self.end_time is not None:
            return
        tracer = self._tracer
        if tracer is None:
            self.end_time = _wall()
            return
        if self._mono_start is not None:
            self.end_time = self.start_time + (tracer._monotonic() - self._mono_start)
        else:
            self.end_time = tracer._time()

    def duration(self) -> float:
        """Seconds from start to end (to now while the span is open)."""
        if self.end_time is not None:
            return self.end_time - self.start_time
        tracer = self._tracer
        if tracer is not None and self._mono_start is not None:
            return tracer._monotonic() - self._mono_start
        now = tracer._time() if tracer is not None else _wall()
        return now - self.start_time

    # -- additions --------------------------------------------------------

    @property
    def is_finished(self) -> bool:
        return self.end_time is not None

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute (values should be str, int, float, bool or lists of them)."""
        self.attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes at once."""
        self.attributes.update(attributes)

    def set_status(self, status: str, message: str | None = None) -> None:
        """Set ``"ok"`` or ``"error"`` and an optional description."""
        if status not in ("ok", "error"):
            raise TracingError(f"span {self.name!r}: status must be 'ok' or 'error', got {status!r}")
        self.status = status
        self.status_message = message

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> SpanEvent:
        """Record that ``name`` happened now (a retry attempt, a state change)."""
        tracer = self._tracer
        now = tracer._time() if tracer is not None else _wall()
        event = SpanEvent(name, now, dict(attributes) if attributes else {})
        if self.events is _NONE:
            self.events = [event]
        else:
            self.events.append(event)
        return event

    def add_link(self, link: Any) -> Link:
        """Link this span to another span (see `Link.coerce` for what is accepted)."""
        coerced = Link.coerce(link)
        if self.links is _NONE:
            self.links = [coerced]
        else:
            self.links.append(coerced)
        return coerced

    def record_exception(self, exc: BaseException, *, escaped: bool = False) -> SpanEvent:
        """Add an ``exception`` event with its type, message and traceback."""
        attributes: dict[str, Any] = {
            "exception.type": type(exc).__name__,
            "exception.message": error_message(exc),
            "exception.stacktrace": "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)
            ),
        }
        if escaped:
            attributes["exception.escaped"] = True
        return self.add_event("exception", attributes)

    def end(self) -> None:
        """Finish the span and hand it to its tracer (once; later calls do nothing)."""
        if self._ended:
            return
        self._ended = True
        if self.end_time is None:
            self.finish()
        if self._tracer is not None:
            self._tracer._on_end(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the span (the data of ``span.finished``)."""
        end = self.end_time
        events = self.events
        links = self.links
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "kind": self.kind,
            "start_time": self.start_time,
            "end_time": end,
            "duration": None if end is None else end - self.start_time,
            "status": self.status,
            "status_message": self.status_message,
            "attributes": _json_attributes(self.attributes),
            "events": [e.to_dict() for e in events] if events else [],
            "links": [link.to_dict() for link in links] if links else [],
            "run_id": self.run_id,
            "workflow": self.workflow,
        }

    # -- context manager --------------------------------------------------

    def __enter__(self) -> Span:
        self._token = _current_span.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        token = self._token
        if token is not None:
            self._token = None
            _current_span.reset(token)
        if exc is not None and isinstance(exc, Exception):
            self.status = "error"
            self.status_message = error_line(exc)
            self.attributes["error"] = error_message(exc)
            self.record_exception(exc, escaped=True)
        if self._ended:
            return
        self._ended = True
        tracer = self._tracer
        if tracer is None:
            if self.end_time is None:
                self.end_time = _wall()
            return
        if self.end_time is None:
            self.end_time = self.start_time + (tracer._monotonic() - self._mono_start)
        tracer._on_end(self)

    def __repr__(self) -> str:
        return (
            f"Span(name={self.name!r}, trace_id={self.trace_id!r}, span_id={self.span_id!r}, "
            f"parent_id={self.parent_id!r}, status={self.status!r})"
        )
