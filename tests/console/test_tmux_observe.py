"""The console in a real terminal serves its metrics and exports its traces when told to."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.console.test_tmux_console import SCRIPT, Tmux, pytestmark  # noqa: F401 - its skips
from tests.real_tools import free_port, wait_for

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
from tests.test_otel_otlp import ORDERS, _Receiver, received_spans  # noqa: E402


@pytest.fixture
def terminal():
    session = Tmux()
    yield session
    session.kill()


@pytest.fixture
def otlp_receiver():
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _runs_started(url: str) -> float | None:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "flowconsole_runs_started_total" and sample.labels == {"workflow": "orders"}:
                return sample.value
    return None


def test_the_console_serves_metrics_and_exports_spans(terminal: Tmux, otlp_receiver: _Receiver, tmp_path: Path) -> None:
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "orders.py").write_text(ORDERS)
    port = free_port()
    exit_file = tmp_path / "exit"
    env = (
        "LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color OTEL_SERVICE_NAME=console-under-test "
        f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{otlp_receiver.server_address[1]}"
    )
    terminal.start(
        f"cd {tmp_path} && env {env} {SCRIPT} {workflows} --state-dir {tmp_path / 'state'} "
        f"--metrics-addr 127.0.0.1:{port}; echo EXIT=$? > {exit_file}; sleep 60"
    )
    terminal.wait_for("orders")

    terminal.keys("r")
    started = wait_for(lambda: _runs_started(f"http://127.0.0.1:{port}/metrics"), 30, "the console's metrics")
    assert started == 1

    terminal.keys("q")
    deadline = time.monotonic() + 30
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "EXIT=0", terminal.screen()
    services, spans = received_spans(otlp_receiver)
    assert set(services) == {"console-under-test"}
    names = " ".join(s.name for s in spans)
    assert all(part in names for part in ("orders", "reserve", "charge")), names
