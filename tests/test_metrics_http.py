"""``GET /metrics``: the engine's metrics over HTTP, for a Prometheus server to scrape."""

from __future__ import annotations

import socket
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from engine import Engine
from engine.observe.metrics import MetricsCollector
from engine.observe.metrics_http import MetricsAddrError, MetricsServer, parse_metrics_addr, wants_openmetrics
from tests.real_tools import require_tool

ADDS = '''
from engine import workflow
from engine.dag import DAGWorkflow


@workflow(name="adds")
def build():
    dag = DAGWorkflow("adds")
    dag.add_task("one", lambda: 1)
    dag.add_task("two", lambda one: one + 1, depends_on=["one"])
    return dag
'''

OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"


def get(url: str, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


@pytest.fixture
def metrics() -> MetricsCollector:
    collector = MetricsCollector()
    collector.increment("flowconsole_runs_started", labels={"workflow": "adds"})
    collector.histogram("flowconsole_run_duration_seconds", 0.25, labels={"workflow": "adds"})
    collector.gauge("flowconsole_runs_active", 0)
    return collector


@pytest.fixture
def server(metrics: MetricsCollector):
    served = MetricsServer(metrics, "127.0.0.1:0")
    yield served
    served.close()


@pytest.fixture
def engine(tmp_path):
    (tmp_path / "adds.py").write_text(ADDS)
    made = Engine(tmp_path, watch=False, schedules=False, check_timeout=None, metrics_addr="127.0.0.1:0")
    made.start()
    yield made
    made.stop()


def test_metrics_are_served_in_the_prometheus_text_format(server: MetricsServer) -> None:
    content_type, body = get(server.url)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in parse_text(body)}
    (sample,) = families["flowconsole_runs_started"].samples
    assert sample.name == "flowconsole_runs_started_total" and sample.value == 1


def test_openmetrics_is_served_when_the_scraper_asks_for_it(server: MetricsServer) -> None:
    content_type, body = get(server.url, OPENMETRICS_ACCEPT)
    assert content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert body.endswith("# EOF\n")
    families = {f.name: f for f in parse_openmetrics(body)}
    assert families["flowconsole_runs_started"].type == "counter"
    assert families["flowconsole_run_duration_seconds"].unit == "seconds"


def test_openmetrics_refused_with_weight_zero_gets_the_text_format() -> None:
    assert not wants_openmetrics("application/openmetrics-text;q=0, text/plain")
    assert not wants_openmetrics(None)
    assert wants_openmetrics("application/openmetrics-text; version=0.0.1; q=0.4")


def test_a_path_other_than_metrics_is_not_found(server: MetricsServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        get(server.url.replace("/metrics", "/"))
    assert raised.value.code == 404


def test_an_address_without_a_host_binds_to_loopback_only() -> None:
    assert parse_metrics_addr("9464") == ("127.0.0.1", 9464)
    assert parse_metrics_addr(":9464") == ("127.0.0.1", 9464)
    assert parse_metrics_addr("0.0.0.0:9464") == ("0.0.0.0", 9464)
    assert parse_metrics_addr("[::1]:9464") == ("::1", 9464)


@pytest.mark.parametrize("addr", ["abc", "host:", "host:99999", "::1:9464", "host:-1"])
def test_a_malformed_address_is_an_error_naming_it(addr: str) -> None:
    with pytest.raises(MetricsAddrError, match="metrics address"):
        parse_metrics_addr(addr)


def test_an_address_in_use_is_an_error_naming_it(server: MetricsServer, metrics: MetricsCollector) -> None:
    host, port = server.address
    with pytest.raises(MetricsAddrError, match=f"{port}.*cannot listen there"):
        MetricsServer(metrics, f"{host}:{port}")


def test_a_client_that_never_sends_its_request_does_not_hold_up_other_scrapes(server: MetricsServer) -> None:
    with socket.create_connection(server.address) as stalled:
        stalled.sendall(b"GET /metr")
        _, body = get(server.url)
    assert "flowconsole_runs_started_total" in body


def test_a_scrape_never_sees_a_half_updated_histogram(server: MetricsServer, metrics: MetricsCollector) -> None:
    # Every value is 1.0, so in any consistent view the sum equals the count.
    histogram = metrics.histogram_series("flowconsole_task_duration_seconds")
    stop = threading.Event()

    def record() -> None:
        while not stop.is_set():
            histogram.record_many([1.0] * 50)

    writer = threading.Thread(target=record)
    writer.start()
    try:
        for _ in range(30):
            _, body = get(server.url)
            samples = {s.name: s.value for s in parse_text(body) for s in s.samples if "task_duration" in s.name}
            assert samples.get("flowconsole_task_duration_seconds_sum", 0) == samples.get(
                "flowconsole_task_duration_seconds_count", 0
            )
    finally:
        stop.set()
        writer.join()


def test_an_engine_given_metrics_addr_serves_its_own_metrics(engine: Engine) -> None:
    engine.run("adds", timeout=30)
    _, body = get(engine.metrics_server.url)
    families = {f.name: f for f in parse_text(body)}
    (started,) = families["flowconsole_runs_started"].samples
    assert started.labels == {"workflow": "adds"} and started.value == 1


def test_an_engine_stops_serving_when_it_stops(tmp_path) -> None:
    made = Engine(tmp_path, watch=False, schedules=False, metrics_addr="127.0.0.1:0")
    made.start()
    url = made.metrics_server.url
    made.stop()
    with pytest.raises(urllib.error.URLError):
        get(url)


def test_an_engine_without_metrics_addr_serves_nothing(tmp_path) -> None:
    made = Engine(tmp_path, watch=False, schedules=False)
    made.start()
    try:
        assert made.metrics_server is None
    finally:
        made.stop()


def test_promtool_accepts_what_a_running_engine_serves(engine: Engine) -> None:
    promtool = require_tool("promtool", "prometheus")
    engine.run("adds", timeout=30)
    _, body = get(engine.metrics_server.url)
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""


def test_every_built_in_metric_is_listed_in_docs() -> None:
    from engine.observe.engine_metrics_help import HELP

    counters = {"runs_started", "runs_completed", "runs_failed", "tasks_started", "tasks_completed",
                "tasks_failed", "retries", "dead_letters", "breaker_rejections", "handler_errors", "events"}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()
    for name in HELP:
        exposed = f"flowconsole_{name}" + ("_total" if name in counters else "")
        assert f"`{exposed}`" in doc, exposed


def test_run_with_a_malformed_metrics_addr_is_one_line_and_exit_two(tmp_path, capsys) -> None:
    from console.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["run", str(tmp_path), "--metrics-addr", "nowhere"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "metrics address 'nowhere'" in err


def test_run_with_a_metrics_addr_in_use_is_one_line_and_exit_two(server: MetricsServer, tmp_path, capsys) -> None:
    from console.cli import main

    host, port = server.address
    (tmp_path / "adds.py").write_text(ADDS)
    assert main(["run", str(tmp_path), "--metrics-addr", f"{host}:{port}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen there" in err


def test_a_scrape_held_up_mid_read_does_not_hold_up_the_engine(engine: Engine) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_source(_collector: MetricsCollector) -> None:
        entered.set()
        release.wait(30)

    engine.runtime.metrics.add_collect_hook(slow_source)
    scraped: list[str] = []
    scrape = threading.Thread(target=lambda: scraped.append(get(engine.metrics_server.url)[1]))
    scrape.start()
    try:
        assert entered.wait(10)
        for _ in range(2 * 1024):  # past a batch flush, which a publisher never waits for
            engine.bus.emit("task.started", {"task": "tick"}, workflow="ticks")
        assert engine.run("adds", timeout=30) == {"one": 1, "two": 2}
    finally:
        release.set()
        scrape.join(30)
    assert scraped and "flowconsole_tasks_started_total" in scraped[0]
