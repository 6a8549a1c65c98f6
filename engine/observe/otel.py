"""Export finished spans to OpenTelemetry (the optional ``flowconsole[otel]`` extra).

`OTelExport` is a span processor for a `engine.observe.tracing.Tracer`: each span
that finishes is converted to an OpenTelemetry SDK ``ReadableSpan`` (same
trace id, span id, parent, kind, timing, status, attributes, events and
links) and handed to an OpenTelemetry span processor, which passes it to a
``SpanExporter``.

Without an explicit exporter the standard environment variables decide:
``OTEL_TRACES_EXPORTER`` (``otlp``, the default, ``console`` or ``none``);
for OTLP ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``
(``grpc`` or ``http/protobuf``, default ``http/protobuf``) pick the exporter
package, which reads its own ``OTEL_EXPORTER_OTLP_*`` variables (endpoint,
headers, timeout). ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name
the service (default ``flowconsole``). `export_requested` tells the commands
whether those variables ask for export at all.

This module imports the OpenTelemetry SDK; the rest of the engine never
does, so the SDK is only needed by those who export.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any, Mapping

from .spans import Span, _json_attributes
from .tracing import Tracer
from .errors import OTelConfigError, OTelUnavailable

try:
    from opentelemetry import trace as _trace_api
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import Event as _OTelEvent
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
        SpanExporter,
    )
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
except ImportError as _missing:  # the extra is optional
    _IMPORT_ERROR: ImportError | None = _missing
else:
    _IMPORT_ERROR = None

_OTLP_MODULES = {
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
}


def _require_sdk() -> None:
    if _IMPORT_ERROR is not None:
        raise OTelUnavailable("opentelemetry-sdk", str(_IMPORT_ERROR))


def exporter_from_env(environ: Mapping[str, str] | None = None) -> SpanExporter | None:
    """The span exporter the ``OTEL_*`` variables ask for (None for ``none``)."""
    _require_sdk()
    env = os.environ if environ is None else environ
    choice = env.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower() or "otlp"
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice != "otlp":
        raise OTelConfigError("OTEL_TRACES_EXPORTER", choice, "'otlp', 'console' or 'none'")
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    module_name = _OTLP_MODULES.get(protocol)
    if module_name is None:
        raise OTelConfigError("OTEL_EXPORTER_OTLP_PROTOCOL", protocol, "'grpc' or 'http/protobuf'")
    package = "opentelemetry-exporter-otlp-proto-" + ("grpc" if protocol == "grpc" else "http")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise OTelUnavailable(package, str(exc)) from exc
    return module.OTLPSpanExporter()


def _resource() -> Any:
    # Attributes given to Resource.create override the environment's, so
    # none are given: it reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES,
    # and says "unknown_service" when neither names the service.
    base = Resource.create()
    if str(base.attributes.get("service.name", "")).startswith("unknown_service"):
        return base.merge(Resource({"service.name": "flowconsole"}))
    return base


_SWITCHES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME")


def export_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the ``OTEL_*`` variables ask a command to export traces.

    ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` say no; any
    other ``OTEL_TRACES_EXPORTER``, an OTLP endpoint or ``OTEL_SERVICE_NAME``
    say yes. Needs no OpenTelemetry package.
    """
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return any(env.get(name, "").strip() for name in _SWITCHES)


_KINDS: dict[str, Any] = {}


def _otel_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in _json_attributes(attributes).items():
        if value is None:
            continue
        if isinstance(value, list):
            if value and all(isinstance(v, (str, bool, int, float)) for v in value) and (
                len({type(v) for v in value}) == 1
            ):
                clean[key] = value
            else:
                clean[key] = str(value)
        elif isinstance(value, dict):
            clean[key] = str(value)
        else:
            clean[key] = value
    return clean


def _context(trace_id: str, span_id: str) -> Any:
    return _trace_api.SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=False,
        trace_flags=_trace_api.TraceFlags(_trace_api.TraceFlags.SAMPLED),
    )


def _ns(seconds: float) -> int:
    return int(round(seconds * 1e9))


def to_readable_span(span: Span, resource: Any = None, scope: Any = None) -> ReadableSpan:
    """The OpenTelemetry SDK form of a finished span."""
    _require_sdk()
    if not _KINDS:
        kind = _trace_api.SpanKind
        _KINDS.update(
            internal=kind.INTERNAL, server=kind.SERVER, client=kind.CLIENT,
            producer=kind.PRODUCER, consumer=kind.CONSUMER,
        )
    attributes = _otel_attributes(span.attributes)
    if span.run_id is not None:
        attributes.setdefault("flowconsole.run_id", span.run_id)
    if span.workflow is not None:
        attributes.setdefault("flowconsole.workflow", span.workflow)
    if span.status == "error":
        status = _trace_api.Status(_trace_api.StatusCode.ERROR, span.status_message)
    else:
        status = _trace_api.Status(_trace_api.StatusCode.OK)
    start_ns = _ns(span.start_time)
    # The duration is added in nanoseconds: an epoch float has only ~0.2 us
    # of resolution left, the duration (measured on its own) much more.
    end_ns = start_ns + (_ns(span.end_time - span.start_time) if span.end_time is not None else 0)
    return ReadableSpan(
        name=span.name,
        context=_context(span.trace_id, span.span_id),
        parent=_context(span.trace_id, span.parent_id) if span.parent_id else None,
        resource=resource,
        attributes=attributes,
        events=[
            _OTelEvent(e.name, _otel_attributes(e.attributes), _ns(e.timestamp)) for e in span.events
        ],
        links=[
            _trace_api.Link(_context(link.trace_id, link.span_id), _otel_attributes(link.attributes))
            for link in span.links
        ],
        kind=_KINDS[span.kind],
        status=status,
        start_time=start_ns,
        end_time=end_ns,
        instrumentation_scope=scope,
    )


class OTelExport:
    """Hands every span a `Tracer` finishes to OpenTelemetry.

    ``exporter``: an OpenTelemetry ``SpanExporter`` (e.g. the SDK's
    ``InMemorySpanExporter``); by default the one the ``OTEL_*`` variables
    ask for. ``batch`` (default True) exports from a background thread in
    batches; False exports on the thread that ends the span (tests).
    `shutdown` flushes, stops the processor and detaches from the tracer.
    ``_lock`` guards ``_closed``.
    """

    def __init__(self, tracer: Tracer | None = None, exporter: Any = None, *, batch: bool = True) -> None:
        _require_sdk()
        if tracer is None:
            from ..runtime import current_runtime

            tracer = current_runtime().tracer
        if exporter is None:
            exporter = exporter_from_env()
        self.tracer = tracer
        self.exporter = exporter
        self.resource = _resource()
        from ..version import __version__

        self.scope = InstrumentationScope("flowconsole", __version__)
        self.processor = None
        self._lock = threading.Lock()
        self._closed = False
        if exporter is not None:
            self.processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            tracer.add_span_processor(self)

    def __call__(self, span: Span) -> None:
        if self.processor is not None and not self._closed:
            self.processor.on_end(to_readable_span(span, self.resource, self.scope))

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export whatever the processor still holds."""
        return True if self.processor is None else self.processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush, stop exporting and detach from the tracer (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.tracer.remove_span_processor(self)
        if self.processor is not None:
            self.processor.shutdown()


def export_to_opentelemetry(tracer: Tracer | None = None, exporter: Any = None, *, batch: bool = True) -> OTelExport:
    """Start exporting ``tracer``'s finished spans to OpenTelemetry; see `OTelExport`."""
    return OTelExport(tracer, exporter, batch=batch)
