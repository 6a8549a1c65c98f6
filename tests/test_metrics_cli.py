"""``flowconsole metrics``: Prometheus text from a state directory or a headless run."""

from __future__ import annotations

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
