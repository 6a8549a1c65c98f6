"""Tracing: spans for every run, task attempt and handler call.

The basic API works: ``with Tracer().start_span(name, attributes) as span``
yields a `Span` with ``trace_id``, ``span_id``, ``parent_id``, ``name``,
``start_time``, ``end_time``, ``attributes``, ``status`` and ``duration()``.
Beyond the basic API:

* The current span lives in a `contextvars.ContextVar` (`current_span`), not
  on the tracer, so spans opened at once on different threads never become
  each other's children. Work submitted to a thread through
  ``contextvars.copy_context().run`` keeps the submitting span as its parent.
* Ids are W3C trace-context ids (see `engine.observe.trace_ids`).
* Spans have a ``kind``, ``events`` (`SpanEvent`: each retry attempt, each
  exception with its type and message) and ``links`` (`Link`: a replayed dead
  letter's span links to the original trace).
* A finished span is published on the runtime's bus as ``span.finished``
  (a `engine.observe.span_data.SpanFinished` event; data: a `SpanData`, a
  read-only mapping of `Span.to_dict`'s content read from the span when
  asked) and handed to the tracer's span processors
  (the OpenTelemetry export, `engine.observe.otel`). The tracer keeps the most recent
  finished spans in a bounded buffer.
* The current run id lives in a ContextVar too (`current_run_id`,
  `run_scope`), so spans, events and log records made anywhere inside a run
  carry it.

Time comes from the runtime's clock: ``start_time``/``end_time`` are wall
clock seconds; the duration is measured on the monotonic clock, so a wall
clock step never makes it negative.

This module holds the `Tracer`; the span values live in `engine.observe.spans` and
the ContextVars in `engine.observe.trace_context`; everything is re-exported here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..clock import SystemClock
from ..events import correlated_event
from .span_data import SpanFinished
from .spans import _NONE, Link, Span, SpanEvent, TracingError
from ..bus.tally import Tally
from .trace_context import (
    _current_run,
    _current_span,
    current_run_id,
    current_span,
    reset_run_id,
    run_scope,
    set_run_id,
)
from .trace_ids import new_span_id, new_trace_id

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = [
    "DEFAULT_MAX_SPANS", "Link", "SPAN_FINISHED", "SPAN_KINDS", "Span", "SpanEvent",
    "SpanProcessor", "Tracer", "TracingError", "current_run_id", "current_span",
    "reset_run_id", "run_scope", "set_run_id",
]

_log = logging.getLogger("engine.tracing")

SPAN_FINISHED = "span.finished"
SPAN_KINDS = frozenset({"internal", "server", "client", "producer", "consumer"})
DEFAULT_MAX_SPANS = 1_000
_FROM_CONTEXT: Any = object()


_new_span = object.__new__
SpanProcessor = Callable[[Span], Any]


class Tracer:
    """Makes spans, publishes the finished ones, keeps the most recent.

    ``spans`` (the basic API's dict, span id -> span) holds the open spans and the
    ``max_spans`` (default 1,000) most recently finished ones; older finished
    spans are dropped (``dropped`` counts them). The default is modest on
    purpose: every finished span is also published as ``span.finished``
    (the console and the store keep those), and thousands of retained spans
    make every garbage collection pass slower. A span that is never ended
    stays among the open ones (the engine ends every span it opens). With
    ``publish=False`` finished spans are kept and processed but not
    published on the bus. With
    ``enabled=False`` spans still get ids and still nest (so events keep
    their correlation), but are neither kept, processed nor published: the
    "tracing off" setting.

    Thread safety: open spans are kept in a dict and finished ones in a
    bounded deque, whose single-item operations are atomic under the GIL;
    ``_lock`` guards the tuple of span processors (copy-on-write, read without
    the lock) and the ``dropped`` count.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        max_spans: int = DEFAULT_MAX_SPANS,
        publish: bool = True,
        enabled: bool = True,
    ) -> None:
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        if not isinstance(max_spans, int) or max_spans < 1:
            raise TracingError(f"Tracer max_spans must be a positive integer, got {max_spans!r}")
        self.runtime = runtime
        self.max_spans = max_spans
        self.publish = publish
        self.enabled = enabled
        # Spans kept, counted without a lock: one taken by every worker for
        # every span made a DAG run's threads queue on it (about 0.8 µs a
        # task). ``_lock`` guards ``_cleared`` (spans kept before the last
        # `clear`) and ``_dropped_before`` (spans dropped before it).
        self._kept = Tally()
        self._cleared = 0
        self._dropped_before = 0
        clock = runtime.clock
        # The system clock's methods only forward to the time module; calling
        # the C functions directly saves two Python calls per span.
        if isinstance(clock, SystemClock):
            self._time = time.time
            self._monotonic = time.monotonic
        else:
            self._time = clock.time
            self._monotonic = clock.monotonic
        self._bus = runtime.bus
        self._open: dict[str, Span] = {}
        self._finished: deque[Span] = deque(maxlen=max_spans)
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def start_span(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        kind: str = "internal",
        links: Iterable[Any] = (),
        parent: Any = _FROM_CONTEXT,
    ) -> Span:
        """A new span, child of the current one; use it in a ``with`` block.

        ``parent`` overrides the context: a `Span` to be a child of, or None
        to start a new trace. The span's ``run_id`` is the current run id;
        its ``workflow`` is the ``workflow`` attribute, else the parent's.
        """
        if kind not in SPAN_KINDS:
            raise TracingError(
                f"span {name!r}: kind must be one of {sorted(SPAN_KINDS)}, got {kind!r}"
            )
        if parent is _FROM_CONTEXT:
            parent = _current_span.get()
        attrs = dict(attributes) if attributes else {}
        if parent is not None:
            trace_id = parent.trace_id
            parent_id = parent.span_id
            workflow = attrs.get("workflow") or parent.workflow
        else:
            trace_id = new_trace_id()
            parent_id = None
            workflow = attrs.get("workflow")
        span_links = [Link.coerce(link) for link in links] if links else _NONE
        return self._new_span(name, kind, attrs, span_links, trace_id, parent_id, workflow)

    def _child_span(self, name: str, attributes: dict[str, Any], parent: Span) -> Span:
        """`start_span` for the engine's own spans: an internal child of ``parent``.

        Takes ``attributes`` as its own (no copy) and skips the checks a
        caller's arguments need; its workflow is the ``workflow`` attribute.
        """
        return self._new_span(
            name, "internal", attributes, _NONE, parent.trace_id, parent.span_id, attributes["workflow"]
        )

    def _new_span(
        self, name: str, kind: str, attrs: dict[str, Any], links: Any,
        trace_id: str, parent_id: str | None, workflow: str | None,
    ) -> Span:
        # Filling the slots here rather than through Span.__init__ skips its
        # keyword handling: this is the hottest line of the engine's tracing.
        span = _new_span(Span)
        span.trace_id = trace_id
        span.span_id = span_id = new_span_id()
        span.parent_id = parent_id
        span.name = name
        span.kind = kind
        span.start_time = self._time()
        span.end_time = None
        span.attributes = attrs
        span.status = "ok"
        span.status_message = None
        span.events = _NONE
        span.links = links
        span.run_id = _current_run.get()
        span.workflow = workflow
        span._tracer = self
        span._ended = False
        span._token = None
        span._mono_start = self._monotonic()
        if self.enabled:
            self._open[span_id] = span
        return span

    def _on_end(self, span: Span) -> None:
        self._open.pop(span.span_id, None)
        if not self.enabled:
            return
        self._finished.append(span)
        self._kept.add()
        for processor in self._processors:
            try:
                processor(span)
            except Exception:  # noqa: BLE001 - an exporter must not fail the traced work
                _log.exception("span processor %r failed on span %s", processor, span.span_id)
        if self.publish:
            self._bus.publish(correlated_event(
                SPAN_FINISHED, span, (span.workflow, span.run_id, span.trace_id, span.span_id), SpanFinished
            ))

    # -- processors -------------------------------------------------------

    def add_span_processor(self, processor: SpanProcessor) -> SpanProcessor:
        """Call ``processor(span)`` for every span that finishes from now on.

        A processor runs on the thread that ends the span, before the span is
        published; it must be quick and must not raise.
        """
        if not callable(processor):
            raise TracingError(f"span processor is not callable: {processor!r}")
        with self._lock:
            self._processors = self._processors + (processor,)
        return processor

    def remove_span_processor(self, processor: SpanProcessor) -> bool:
        """Stop calling ``processor``; False if it was not added."""
        with self._lock:
            if processor not in self._processors:
                return False
            items = list(self._processors)
            items.remove(processor)
            self._processors = tuple(items)
            return True

    # -- inspection -------------------------------------------------------

    @property
    def spans(self) -> dict[str, Span]:
        """Open spans and the most recently finished ones, by span id."""
        result = {span.span_id: span for span in list(self._finished)}
        result.update(dict(self._open))
        return result

    @property
    def current_span(self) -> Span | None:
        """The span open in the calling context (the basic API's attribute)."""
        return _current_span.get()

    def finished_spans(self) -> list[Span]:
        """The finished spans kept, oldest first."""
        return list(self._finished)

    def open_spans(self) -> list[Span]:
        """The spans started and not yet ended."""
        return list(dict(self._open).values())

    def trace(self, trace_id: str) -> list[Span]:
        """The kept spans of one trace, in start order."""
        found = [s for s in self.spans.values() if s.trace_id == trace_id]
        return sorted(found, key=lambda s: s.start_time)

    @property
    def dropped(self) -> int:
        """How many finished spans newer ones pushed out of the buffer.

        Exact whenever no span is finishing at the same moment.
        """
        with self._lock:
            kept = self._kept.value() - self._cleared
            return self._dropped_before + max(0, kept - self.max_spans)

    def clear(self) -> None:
        """Forget the finished spans kept so far."""
        with self._lock:
            total = self._kept.value()
            self._dropped_before += max(0, total - self._cleared - self.max_spans)
            self._cleared = total
            self._finished.clear()
