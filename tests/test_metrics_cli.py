"""``flowconsole metrics``: Prometheus text from a state directory or a headless run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.cli import main
from engine import Event, Runtime

P = "flowconsole_"

WORKFLOW = '''
from engine import workflow
from engine.dag import DAGWorkflow


@workflow(name="etl")
def build():
    dag = DAGWorkflow("etl")
    dag.add_task("extract", lambda: [1, 2, 3])
    dag.add_task("load", lambda extract: sum(extract), ["extract"])
    return dag
'''


GATED = '''
import time
from pathlib import Path

from engine import workflow
from engine.dag import DAGWorkflow

GATE = Path(__file__).with_name("gate")


def wait_for_gate():
    deadline = time.monotonic() + 30
    while not GATE.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return GATE.exists()


@workflow(name="gated")
def build():
    dag = DAGWorkflow("gated")
    dag.add_task("first", lambda: 1)
    dag.add_task("second", lambda first: wait_for_gate(), ["first"])
    return dag
'''
ROOT = Path(__file__).resolve().parents[1]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_of_a_state_directory_come_from_its_event_log(tmp_path: Path, capsys) -> None:
    store_mod = pytest.importorskip("engine.store")
    runtime = Runtime()
    store = store_mod.Store.open(tmp_path / "state")
    store.attach(runtime)
    for etype, data in [
        ("run.started", {}),
        ("task.started", {"task": "a"}),
        ("task.completed", {"task": "a", "duration": 0.25}),
        ("run.completed", {"duration": 0.5}),
    ]:
        runtime.bus.publish(Event(etype, data, workflow="etl", run_id="r1"))
    store.flush()
    store.close()
    assert main(["metrics", "--state-dir", str(tmp_path / "state")]) == 0
    found = samples(capsys.readouterr().out)
    assert found[(P + "runs_completed_total", (("workflow", "etl"),))] == 1
    assert found[(P + "task_duration_seconds_sum", (("outcome", "completed"), ("workflow", "etl")))] == 0.25


def test_a_directory_without_state_is_a_clear_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["metrics", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no flowconsole state here" in err and str(tmp_path) in err


def test_metrics_of_a_headless_run_of_a_workflow_directory(tmp_path: Path, capsys) -> None:
    (tmp_path / "etl.py").write_text(WORKFLOW)
    assert main(["metrics", "--workflows", str(tmp_path)]) == 0
    found = samples(capsys.readouterr().out)
    assert found[(P + "runs_completed_total", (("workflow", "etl"),))] == 1
    assert found[(P + "tasks_completed_total", (("workflow", "etl"),))] == 2


def test_unknown_workflow_is_named_in_the_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "etl.py").write_text(WORKFLOW)
    assert main(["metrics", "--workflows", str(tmp_path), "--workflow", "nope"]) == 2
    assert "no workflow 'nope' loaded (available: etl)" in capsys.readouterr().err


def test_state_dir_and_workflows_together_are_refused(tmp_path: Path, capsys) -> None:
    assert main(["metrics", "--workflows", str(tmp_path), "--state-dir", str(tmp_path)]) == 2
    assert "either --state-dir or --workflows" in capsys.readouterr().err


def test_metrics_of_a_state_directory_a_running_headless_engine_writes_to(tmp_path: Path, capsys) -> None:
    workflows, state = tmp_path / "workflows", tmp_path / "state"
    workflows.mkdir()
    (workflows / "gated.py").write_text(GATED)
    engine = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(workflows), "--state-dir", str(state)],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        labels = (("workflow", "gated"),)
        deadline = time.monotonic() + 30
        found: dict = {}
        while time.monotonic() < deadline:
            if (state / "flowconsole.db").exists():
                code = main(["metrics", "--state-dir", str(state)])
                out = capsys.readouterr().out
                found = samples(out) if code == 0 else {}
                if found.get((P + "tasks_completed_total", labels)) == 1:
                    break
            time.sleep(0.05)
        assert found[(P + "runs_active", labels)] == 1
        assert found[(P + "tasks_started_total", labels)] == 2
        (workflows / "gate").touch()
        assert engine.wait(30) == 0
    finally:
        engine.kill()
    assert main(["metrics", "--state-dir", str(state)]) == 0
    found = samples(capsys.readouterr().out)
    assert found[(P + "runs_completed_total", labels)] == 1
    assert found[(P + "tasks_completed_total", labels)] == 2
