"""A real Prometheus server scrapes a running headless engine and reads its counter back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.real_tools import free_port, require_tool, wait_for

ROOT = Path(__file__).resolve().parents[1]

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

CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowconsole
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def _read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def _engine_value(metrics_url: str) -> float | None:
    for family in text_string_to_metric_families(_read(metrics_url)):
        for sample in family.samples:
            if sample.name == "flowconsole_runs_started_total" and sample.labels == {"workflow": "adds"}:
                return sample.value
    return None


def _query(prometheus: str, expr: str) -> list[dict]:
    answer = json.loads(_read(f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def headless_engine(tmp_path):
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "adds.py").write_text(ADDS)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(workflows), "--workflow", "adds", "--watch",
         "--metrics-addr", f"127.0.0.1:{port}"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    yield port, f"http://127.0.0.1:{port}/metrics"
    _stop(proc)


@pytest.fixture
def prometheus_for(tmp_path):
    binary = require_tool("prometheus", "prometheus")
    started: list[subprocess.Popen] = []

    def start(target_port: int) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(CONFIG.format(port=target_port))
        port = free_port()
        log = open(tmp_path / "prometheus.log", "w")
        started.append(subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        ))
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in started:
        _stop(proc)


def test_prometheus_scrapes_the_runs_counter_the_engine_reports(headless_engine, prometheus_for) -> None:
    port, metrics_url = headless_engine
    engine_value = wait_for(lambda: _engine_value(metrics_url), 60, "the engine to serve its first run")
    prometheus = prometheus_for(port)

    result = wait_for(
        lambda: _query(prometheus, 'flowconsole_runs_started_total{workflow="adds"}') or None, 60,
        "Prometheus to scrape flowconsole_runs_started_total",
    )

    (series,) = result
    assert series["metric"]["job"] == "flowconsole"
    assert float(series["value"][1]) == engine_value == 1
    targets = json.loads(_read(f"{prometheus}/api/v1/targets"))["data"]["activeTargets"]
    assert [(t["health"], t["lastError"]) for t in targets] == [("up", "")]
