"""Observability: tracing, metrics, logs and their exports.

Holds tracing (`tracing`, `spans`, `span_data`, `trace_context`,
`trace_ids`), metrics (`metrics`, `histogram`, `prometheus`), the engine's
built-in metrics derived from bus events (`engine_metrics`,
`engine_metrics_help`), structured logs
(`logs`) and the OpenTelemetry export (`otel`).
May import: the kernel, `engine.runtime`, `engine.bus`. Never a workflow kind.
"""

from ..runtime import register_service
from .histogram import Histogram, HistogramError
from .logs import (
    BusLogHandler,
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    LogLevelError,
    StructuredLogger,
    attach_bus_logging,
    install_json_logging,
)
from .engine_metrics import EngineMetrics, attach_engine_metrics
from .metrics import MetricError, MetricsCollector
from .tracing import (
    Link,
    Span,
    SpanEvent,
    Tracer,
    TracingError,
    current_run_id,
    current_span,
    reset_run_id,
    run_scope,
    set_run_id,
)

register_service("tracer", lambda runtime: Tracer(runtime=runtime))
register_service("metrics", lambda runtime: MetricsCollector(runtime=runtime))

__all__ = [
    "BusLogHandler",
    "ContextFilter",
    "EngineMetrics",
    "Histogram",
    "HistogramError",
    "JsonFormatter",
    "PlainFormatter",
    "Link",
    "LogLevelError",
    "MetricError",
    "MetricsCollector",
    "Span",
    "SpanEvent",
    "StructuredLogger",
    "Tracer",
    "TracingError",
    "attach_bus_logging",
    "attach_engine_metrics",
    "current_run_id",
    "current_span",
    "install_json_logging",
    "reset_run_id",
    "run_scope",
    "set_run_id",
]
