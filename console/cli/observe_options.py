"""``--metrics-addr`` and ``--otel``: what the console and ``flowconsole run`` share.

`add_observe_options(parser)` adds the two options; `observe(args, engine)`
carries them out for an engine made but not yet started, and returns an
`Observing` whose `Observing.close` (called after ``engine.stop()``) flushes
the last spans and releases the port:

* ``--metrics-addr HOST:PORT``: serve the engine's metrics at ``/metrics``
  (`engine.observe.metrics_http`), bound before the engine starts so an address that
  cannot be used is one line and exit code 2, not a half-started console.
* ``--otel``, or the standard ``OTEL_*`` variables (`engine.observe.otel.export_requested`):
  export every finished span to OpenTelemetry, as those variables configure it.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.errors import FlowError


def _metrics_addr(text: str) -> str:
    from engine.observe.metrics_http import parse_metrics_addr

    try:
        parse_metrics_addr(text)
    except FlowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def add_observe_options(parser: argparse.ArgumentParser) -> None:
    """The ``--metrics-addr`` and ``--otel`` options."""
    parser.add_argument(
        "--metrics-addr", metavar="HOST:PORT", type=_metrics_addr, default=None,
        help="serve Prometheus metrics at http://HOST:PORT/metrics (PORT alone: on 127.0.0.1; default: off)",
    )
    parser.add_argument(
        "--otel", action="store_true",
        help="export traces to OpenTelemetry as the OTEL_* variables configure it (default OTLP/HTTP "
        "to localhost:4318; also on when OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT or "
        "OTEL_SERVICE_NAME is set)",
    )


class Observing:
    """The metrics server and trace export started for one engine."""

    def __init__(self, metrics_server: Any = None, export: Any = None) -> None:
        self.metrics_server = metrics_server
        self.export = export

    def close(self) -> None:
        """Flush and stop the trace export, then stop serving metrics."""
        if self.export is not None:
            self.export.shutdown()
        if self.metrics_server is not None:
            self.metrics_server.close()


def observe(args: argparse.Namespace, engine: Any) -> Observing:
    """Start what ``args`` asks for on ``engine``; `UsageError` when it cannot be."""
    from engine.observe.metrics_http import MetricsServer
    from engine.observe.otel import export_requested

    from console.cli import UsageError

    server = export = None
    addr = getattr(args, "metrics_addr", None)
    try:
        if addr is not None:
            server = MetricsServer(engine.runtime.metrics, addr)
        if getattr(args, "otel", False) or export_requested():
            from engine.observe.otel import export_to_opentelemetry

            export = export_to_opentelemetry(engine.runtime.tracer)
    except FlowError as exc:
        Observing(server).close()
        raise UsageError(" ".join(str(exc).split())) from exc
    return Observing(server, export)
