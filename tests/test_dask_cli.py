"""The ``--executor`` option of the console and of ``flowconsole run``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from console.cli import build_open_parser, main  # noqa: E402
from engine import DaskExecutor, Engine, ThreadExecutor, current_executor, use_executor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_open_parser_takes_an_executor_and_defaults_to_threads():
    assert build_open_parser().parse_args([]).executor == "threads"
    assert build_open_parser().parse_args(["--executor", "dask://sched:8786"]).executor == "dask://sched:8786"


def test_an_engine_made_under_use_executor_runs_its_tasks_there():
    executor = ThreadExecutor(1)
    with use_executor(executor):
        engine = Engine(None, watch=False, schedules=False)
    assert engine.task_executor is executor
    engine.stop()
    executor.shutdown()


def test_run_with_a_nonsense_executor_is_one_line_and_exit_2(capsys):
    code = main(["run", str(ROOT / "sample_workflows" / "etl_dag.py"), "--executor", "dask-far"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'dask-far'" in err


def test_run_on_dask_local_runs_the_workflow_in_worker_processes(tmp_path, capsys):
    (tmp_path / "pids.py").write_text(
        "import os\n"
        "from engine import DAGWorkflow, workflow\n\n"
        f"CLI_PID = {os.getpid()}\n\n"
        "@workflow(name='pids')\n"
        "def build():\n"
        "    dag = DAGWorkflow('pids')\n"
        "    dag.add_task('elsewhere', lambda: os.getpid() != CLI_PID)\n"
        "    return dag\n"
    )
    code = main(["run", str(tmp_path / "pids.py"), "--executor", "dask-local:1", "--timeout", "60"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "pids: ok" in out and "'elsewhere': True" in out


def test_open_makes_the_executor_current_for_the_console_and_closes_it(monkeypatch, tmp_path):
    import console.cli.tui

    seen = []
    monkeypatch.setattr(console.cli.tui, "run_app", lambda args: seen.append(current_executor()) or 0)
    assert main([str(tmp_path), "--executor", "dask-local:1"]) == 0
    [executor] = seen
    assert isinstance(executor, DaskExecutor) and not executor.in_process
    assert executor.client.status == "closed"
    assert current_executor() is None
