"""How the event log stores ``span.finished`` data: a JSON array, not an object.

A finished span is the largest event the engine publishes, one per task
attempt, and most of its data repeats the row's own columns (trace id, span
id, run id, workflow) or follows from other fields (duration). Stored as an
array of the remaining fields in a fixed order it encodes in about half the
time. The array form is unambiguous: any other event's data is a mapping,
stored as a JSON object. Only data of exactly the tracer's shape, whose
repeated fields equal the columns, is stored this way; anything else is
stored as is, so reading a row back always gives the data that was
published.
"""

from __future__ import annotations

from typing import Any, Callable

from ..observe.span_data import SpanData

SPAN_FINISHED = "span.finished"
# The array's fields, in order; `expand` restores the rest.
_STORED = (
    "parent_id", "name", "kind", "start_time", "end_time", "status", "status_message",
    "attributes", "events", "links",
)
_KEYS = frozenset((*_STORED, "trace_id", "span_id", "run_id", "workflow", "duration"))


def compact(data: Any, fields: tuple[Any, ...], dumps: Callable[[Any], str]) -> str | None:
    """``data`` as the stored array, or None when it is not a span of the tracer's shape
    (a `SpanData`, or a dict of its keys whose repeated fields agree).

    ``fields`` is the row's ``(id, type, ts, workflow, run_id, trace_id, span_id)``.
    """
    if type(data) is SpanData:
        # The tracer's own: its fields straight from the span, no dict between.
        span = data.span
        start, end = span.start_time, span.end_time
        if (
            span.trace_id != fields[5] or span.span_id != fields[6]
            or span.run_id != fields[4] or span.workflow != fields[3]
            or type(start) is not float or (end is not None and type(end) is not float)
        ):
            return None
        return dumps([
            span.parent_id, span.name, span.kind, start, end, span.status, span.status_message,
            data["attributes"], data["events"], data["links"],
        ])
    if type(data) is not dict or data.keys() != _KEYS:
        return None
    start, end = data["start_time"], data["end_time"]
    if (
        data["trace_id"] != fields[5] or data["span_id"] != fields[6]
        or data["run_id"] != fields[4] or data["workflow"] != fields[3]
        or type(start) is not float or (end is not None and type(end) is not float)
        or data["duration"] != (None if end is None else end - start)
    ):
        return None
    return dumps([data[key] for key in _STORED])


def expand(values: list[Any], workflow: Any, run_id: Any, trace_id: Any, span_id: Any) -> dict[str, Any]:
    """The span's data from its stored array and its row's columns."""
    data = dict(zip(_STORED, values))
    start, end = data["start_time"], data["end_time"]
    data.update(
        trace_id=trace_id, span_id=span_id, run_id=run_id, workflow=workflow,
        duration=None if end is None else end - start,
    )
    return data
