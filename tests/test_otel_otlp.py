"""Traces leave a headless run by configuration alone, over real OTLP/HTTP.

A `flowconsole run` subprocess, told only by ``OTEL_*`` variables (or
``--otel``), exports to a receiver on 127.0.0.1 that decodes each request
with ``opentelemetry-proto``; what arrives is compared with the spans the
same run printed as ``span.finished`` events (``--json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Status  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

ORDERS = '''
from engine import workflow
from engine.dag import DAGWorkflow


def refuse(reserve):
    raise ValueError("card declined")


@workflow(name="orders", failure_policy="continue")
def build():
    dag = DAGWorkflow("orders")
    dag.add_task("reserve", lambda: 2)
    dag.add_task("charge", refuse, depends_on=["reserve"])
    return dag
'''


class _Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver: every decoded request, kept in order."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.server.lock:
            self.server.requests.append(request)
            self.server.paths.append(self.path)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
        return


@pytest.fixture
def receiver():
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def workflows(tmp_path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "orders.py").write_text(ORDERS)
    return folder


def run_headless(workflows: Path, env: dict[str, str], *flags: str) -> list[dict]:
    """Run ``orders`` headless; the ``span.finished`` data it printed."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "console.cli", "run", str(workflows), "--workflow", "orders", "--json", *flags],
        env={**clean, "PYTHONPATH": str(ROOT), **env}, cwd=workflows.parent,
        capture_output=True, text=True, timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    return [e["data"] for e in events if e.get("type") == "span.finished"]


def received_spans(receiver: _Receiver) -> tuple[list[str], list]:
    """The service names and spans of every request, in arrival order."""
    services, spans = [], []
    with receiver.lock:
        requests = list(receiver.requests)
    for request in requests:
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            services.append(attrs.get("service.name"))
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    return services, spans


def _attributes(span) -> dict:
    out = {}
    for attr in span.attributes:
        value = attr.value
        out[attr.key] = getattr(value, value.WhichOneof("value"))
    return out


def test_spans_arrive_over_otlp_http_as_the_engine_had_them(receiver: _Receiver, workflows: Path) -> None:
    port = receiver.server_address[1]
    engine_spans = run_headless(workflows, {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_SERVICE_NAME": "orders-service",
    })
    services, spans = received_spans(receiver)

    assert set(receiver.paths) == {"/v1/traces"}
    assert set(services) == {"orders-service"}
    assert engine_spans, "the run printed no span.finished events"
    got = {s.span_id.hex(): s for s in spans}
    assert set(got) == {s["span_id"] for s in engine_spans}
    for mine in engine_spans:
        theirs = got[mine["span_id"]]
        assert theirs.name == mine["name"]
        assert theirs.trace_id.hex() == mine["trace_id"]
        assert (theirs.parent_span_id.hex() or None) == mine["parent_id"]
        code = Status.STATUS_CODE_ERROR if mine["status"] == "error" else Status.STATUS_CODE_OK
        assert theirs.status.code == code
        if mine["status"] == "error":
            assert theirs.status.message == mine["status_message"]
        attributes = _attributes(theirs)
        for key, value in mine["attributes"].items():
            if isinstance(value, (str, bool, int, float)):
                assert attributes[key] == value, key
    assert any(s["status"] == "error" for s in engine_spans), "the failing task made no error span"


def test_the_otel_flag_turns_export_on_with_only_an_endpoint_variable(receiver: _Receiver, workflows: Path) -> None:
    port = receiver.server_address[1]
    engine_spans = run_headless(
        workflows, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{port}/v1/traces"}, "--otel"
    )
    services, spans = received_spans(receiver)
    assert set(services) == {"flowconsole"}
    assert {s.span_id.hex() for s in spans} == {s["span_id"] for s in engine_spans}


def test_without_otel_configuration_nothing_is_exported(receiver: _Receiver, workflows: Path) -> None:
    assert run_headless(workflows, {})
    assert received_spans(receiver) == ([], [])


def test_an_unreachable_receiver_costs_the_run_nothing_but_a_logged_warning(tmp_path) -> None:
    from tests.real_tools import free_port

    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "adds.py").write_text(
        "from engine import workflow\nfrom engine.dag import DAGWorkflow\n\n\n"
        "@workflow(name='adds')\ndef build():\n    dag = DAGWorkflow('adds')\n"
        "    dag.add_task('one', lambda: 1)\n    return dag\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "console.cli", "run", str(folder)],
        env={**clean, "PYTHONPATH": str(ROOT), "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
             "OTEL_EXPORTER_OTLP_TIMEOUT": "1"},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0
    assert "adds: ok" in done.stdout
    assert "Traceback" not in done.stderr and "export" in done.stderr
