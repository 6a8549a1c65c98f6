"""Serve a `MetricsCollector` over HTTP for a Prometheus server to scrape.

`MetricsServer(collector, "127.0.0.1:9464")` answers ``GET /metrics`` with
the Prometheus text format (version 0.0.4), or OpenMetrics 1.0.0 when the
request's ``Accept`` header names ``application/openmetrics-text`` (as a
Prometheus server's does). Every other path is a 404.

The server runs on threads of its own (`http.server.ThreadingHTTPServer`,
one daemon thread per connection), so a scrape never runs on, or waits
for, an engine thread: it reads the collector the way any reader does (each
histogram's summary is taken under that histogram's lock, so a scrape never
sees a half-updated one). A client that connects and never finishes its
request holds only its own thread, and only for `REQUEST_TIMEOUT` seconds.

`parse_metrics_addr` reads ``HOST:PORT`` (``:PORT`` or ``PORT`` alone bind
to 127.0.0.1; ``[::1]:PORT`` for IPv6; port 0 picks a free port, read back
from `MetricsServer.address`). `MetricsServer._lock` guards ``_closed``.
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ..errors import FlowError
from .openmetrics import CONTENT_TYPE as OPENMETRICS_CONTENT_TYPE
from .openmetrics import render as render_openmetrics
from .prometheus import CONTENT_TYPE as TEXT_CONTENT_TYPE
from .prometheus import render as render_text

if TYPE_CHECKING:
    from .metrics import MetricsCollector

_log = logging.getLogger("engine.metrics_http")

DEFAULT_HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0


class MetricsAddrError(FlowError, ValueError):
    """A metrics address could not be parsed, or could not be bound."""

    def __init__(self, addr: str, reason: str) -> None:
        super().__init__(f"metrics address {addr!r}: {reason}")
        self.addr = addr


def parse_metrics_addr(addr: str) -> tuple[str, int]:
    """``(host, port)`` of ``HOST:PORT``, ``:PORT`` or ``PORT`` (host 127.0.0.1)."""
    text = str(addr).strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise MetricsAddrError(text, "write an IPv6 host in brackets, as [::1]:9464")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise MetricsAddrError(text, "expected HOST:PORT with a port from 0 to 65535")
    return host or DEFAULT_HOST, int(port_text)


def wants_openmetrics(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for OpenMetrics (with a weight above 0)."""
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() != "application/openmetrics-text":
            continue
        weights = [p.partition("=")[2] for p in params if p.lower().startswith("q=")]
        try:
            if not weights or float(weights[0]) > 0:
                return True
        except ValueError:
            continue
    return False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path.partition("?")[0] != "/metrics":
            self._reply(404, "text/plain; charset=utf-8", b"not found: only /metrics is served\n")
            return
        families = self.server.collector.collect()
        if wants_openmetrics(self.headers.get("Accept")):
            body, content_type = render_openmetrics(families), OPENMETRICS_CONTENT_TYPE
        else:
            body, content_type = render_text(families), TEXT_CONTENT_TYPE
        self._reply(200, content_type, body.encode("utf-8"))

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        _log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], collector: MetricsCollector) -> None:
        self.collector = collector
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class MetricsServer:
    """``GET /metrics`` of ``collector`` on ``addr``, served until `close`."""

    def __init__(self, collector: MetricsCollector, addr: str | tuple[str, int]) -> None:
        host, port = parse_metrics_addr(addr) if isinstance(addr, str) else addr
        try:
            self._server = _Server((host, port), collector)
        except OSError as exc:
            raise MetricsAddrError(f"{host}:{port}", f"cannot listen there ({exc.strerror or exc})") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="flowconsole-metrics-http", daemon=True
        )
        self._lock = threading.Lock()
        self._closed = False
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        """The host and port actually bound (the port chosen, when 0 was asked for)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """``http://HOST:PORT/metrics``."""
        host, port = self.address
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
