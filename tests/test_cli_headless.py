"""``flowconsole validate`` and ``flowconsole run``: output and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_workflows"

OK_DAG = '''
from engine import workflow
from engine.dag import DAGWorkflow


@workflow(name="adds", trigger={"every": "1s"})
def build():
    dag = DAGWorkflow("adds")
    dag.add_task("one", lambda: 1)
    dag.add_task("two", lambda one: one + 1, depends_on=["one"])
    return dag
'''

FAILING_DAG = '''
from engine import workflow
from engine.dag import DAGWorkflow


def explode():
    raise ValueError("no luck")


@workflow(name="explodes")
def build():
    dag = DAGWorkflow("explodes")
    dag.add_task("boom", explode)
    return dag
'''


@pytest.fixture
def folder(tmp_path):
    def make(**files: str) -> Path:
        for name, text in files.items():
            (tmp_path / f"{name}.py").write_text(text)
        return tmp_path
    return make


def test_validate_passes_on_the_samples(capsys):
    assert main(["validate", str(SAMPLES)]) == 0
    assert capsys.readouterr().out.strip().endswith("ok")


def test_validate_prints_file_line_message_and_exits_one(folder, capsys):
    root = folder(good=OK_DAG, bad="from engine import workflow\n\nraise KeyError('x')\n")
    assert main(["validate", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{root / 'bad.py'}:3: KeyError at import: 'x'"]


def test_validate_reports_a_name_declared_by_two_files(folder, capsys):
    root = folder(a=OK_DAG, b=OK_DAG)
    assert main(["validate", str(root)]) == 1
    assert "workflow name 'adds' is already declared in" in capsys.readouterr().out


def test_validate_of_a_missing_directory_is_a_usage_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_run_succeeds_with_exit_zero(folder, capsys):
    root = folder(adds=OK_DAG)
    assert main(["run", str(root / "adds.py")]) == 0
    assert capsys.readouterr().out.startswith("adds: ok - result {'one': 1, 'two': 2}")


def test_run_of_a_failing_workflow_exits_one(folder, capsys):
    root = folder(adds=OK_DAG, explodes=FAILING_DAG)
    assert main(["run", str(root)]) == 1
    out = capsys.readouterr().out
    assert "adds: ok" in out and "explodes: FAILED" in out and "no luck" in out


ON_EVENT_SAGA = '''
from engine import SagaOrchestrator, run_inputs, workflow


@workflow(name="ships", trigger={"on": "order.paid"})
def build():
    saga = SagaOrchestrator("ships")
    saga.add_step("ship", lambda: run_inputs()["event"]["data"]["order"], lambda: None)
    return saga
'''


def test_run_of_every_workflow_skips_one_started_by_events_and_says_so(folder, capsys):
    root = folder(adds=OK_DAG, ships=ON_EVENT_SAGA)
    assert main(["run", str(root)]) == 0
    out = capsys.readouterr().out
    assert "adds: ok" in out
    assert "ships: skipped - started by 'order.paid' events (run it alone with --workflow ships)" in out


def test_run_json_reports_a_skipped_workflow(folder, capsys):
    root = folder(ships=ON_EVENT_SAGA)
    assert main(["run", str(root), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"type": "cli.run_skipped", "data": {
        "name": "ships", "reason": "started by 'order.paid' events (run it alone with --workflow ships)",
    }} in lines


def test_run_of_a_workflow_started_by_events_named_with_workflow_runs_it(folder, capsys):
    root = folder(ships=ON_EVENT_SAGA)
    assert main(["run", str(root), "--workflow", "ships"]) == 1
    assert "ships: FAILED" in capsys.readouterr().out


def test_run_with_a_file_that_fails_to_load_exits_one(folder, capsys):
    root = folder(adds=OK_DAG, broken="import nothing_here_at_all\n")
    assert main(["run", str(root), "--workflow", "adds"]) == 1
    assert "broken.py:1: ModuleNotFoundError" in capsys.readouterr().err


def test_run_of_an_unknown_workflow_is_a_usage_error(folder, capsys):
    root = folder(adds=OK_DAG)
    assert main(["run", str(root), "--workflow", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "flowconsole: error: no workflow 'nope' loaded (available: adds)"


def test_run_of_a_missing_path_is_a_usage_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.py")]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_run_json_writes_every_event_as_a_json_line(folder, capsys):
    root = folder(adds=OK_DAG)
    assert main(["run", str(root), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    types = [line["type"] for line in lines]
    assert types[0] == "workflow.loaded" and "run.completed" in types
    finished = lines[-1]
    assert finished["type"] == "cli.run_finished"
    run_id = finished["data"]["run_id"]
    assert finished["data"] == {"name": "adds", "ok": True, "run_id": run_id,
                                "detail": f"result {{'one': 1, 'two': 2}} (run {run_id})"}


def test_run_watch_keeps_running_schedules_until_interrupted(folder):
    root = folder(adds=OK_DAG)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from console.cli import main; sys.exit(main())", "run", str(root), "--watch", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )
    try:
        fired = 0
        for line in proc.stdout:
            if json.loads(line)["type"] == "run.completed":
                fired += 1
                if fired == 2:
                    break
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
