"""``flowconsole run``: inputs, what a run created, ``--watch`` without ``--json``, ``python -m flowconsole``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parent.parent

ECHO_DAG = '''
from engine import DAGWorkflow, run_inputs, workflow


@workflow(name="echo")
def build():
    dag = DAGWorkflow("echo")
    dag.add_task("seen", lambda: dict(sorted(run_inputs().items())))
    return dag
'''

MACHINE = '''
from engine import StateMachine, workflow


@workflow(name="door")
def build():
    machine = StateMachine("closed", name="door", final_states=["gone"])
    machine.add_transition("closed", "open", "push")
    machine.add_transition("open", "gone", "leave")
    return machine
'''

TICKING_DAG = '''
from engine import DAGWorkflow, workflow


@workflow(name="ticks", trigger={"every": "250ms"})
def build():
    dag = DAGWorkflow("ticks")
    dag.add_task("tick", lambda: 1)
    return dag
'''


ORDERS = '''
from engine import DAGWorkflow, run_inputs, workflow


@workflow(name="till", trigger={"every": "250ms"})
def till(ctx):
    def sell():
        ctx.runtime.bus.emit("order.placed", {"order_id": "o-1"}, workflow="till")

    dag = DAGWorkflow("till")
    dag.add_task("sell", sell)
    return dag


@workflow(name="packer", trigger={"on": "order.placed"})
def packer():
    dag = DAGWorkflow("packer")
    dag.add_task("pack", lambda: run_inputs()["event"]["data"]["order_id"])
    return dag
'''


@pytest.fixture
def echo(tmp_path) -> Path:
    (tmp_path / "echo.py").write_text(ECHO_DAG)
    return tmp_path


def test_inputs_json_are_the_runs_inputs(echo, capsys) -> None:
    assert main(["run", str(echo), "--inputs", '{"n": 3, "tags": ["a"]}']) == 0
    assert capsys.readouterr().out.startswith("echo: ok - result {'seen': {'n': 3, 'tags': ['a']}} (run ")


def test_input_key_value_is_a_string_and_overrides_inputs_json(echo, capsys) -> None:
    assert main(["run", str(echo), "--inputs", '{"n": 3, "m": 1}', "--input", "n=4", "--input", "who=ops=1"]) == 0
    assert "{'seen': {'m': 1, 'n': '4', 'who': 'ops=1'}}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "says"), [
    (["--inputs", '{"n": 3'], "--inputs: not valid JSON"),
    (["--inputs", "[1, 2]"], "--inputs: expected a JSON object, got list"),
    (["--input", "no-equals-sign"], "--input 'no-equals-sign': expected KEY=VALUE"),
])
def test_bad_inputs_are_one_line_and_exit_code_two(echo, capsys, argv, says) -> None:
    assert main(["run", str(echo), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_the_outcome_line_names_the_state_machine_instance_created(tmp_path, capsys) -> None:
    (tmp_path / "door.py").write_text(MACHINE)
    assert main(["run", str(tmp_path), "--input", "instance_id=front"]) == 0
    assert capsys.readouterr().out.strip() == "door: ok - instance front in state 'closed'"


def test_the_outcome_line_names_the_run_id(echo, capsys) -> None:
    assert main(["run", str(echo)]) == 0
    out = capsys.readouterr().out.strip()
    run_id = out.rsplit("(run ", 1)[1].rstrip(")")
    assert len(run_id) == 16 and out.endswith(f"(run {run_id})")


def _flowconsole(*argv: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "flowconsole", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT,
    )


def test_watch_without_json_prints_a_line_per_run_and_a_summary_when_interrupted(tmp_path) -> None:
    (tmp_path / "ticks.py").write_text(TICKING_DAG)
    proc = _flowconsole("run", str(tmp_path), "--watch")
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line.strip())
            if len(seen) == 2:
                break
        assert all(line.startswith("ticks: ok - result {'tick': 1} (run ") for line in seen)
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read().splitlines()
        assert proc.wait(20) == 0
        outcomes = seen + rest[:-1]
        ok = sum(1 for line in outcomes if line.startswith("ticks: ok"))
        assert rest[-1] == f"stopped: {len(outcomes)} runs ended, {ok} ok, {len(outcomes) - ok} failed"
    finally:
        proc.kill()
        proc.communicate()


def test_watch_prints_the_outcome_of_a_run_a_bus_event_started(tmp_path) -> None:
    (tmp_path / "orders.py").write_text(ORDERS)
    proc = _flowconsole("run", str(tmp_path), "--watch")
    try:
        # Each till run starts one packer run: by 20 lines, several packer lines are due.
        lines = [proc.stdout.readline() for _ in range(20)]
        packed = [line for line in lines if line.startswith("packer:")]
        assert packed and all(line.startswith("packer: ok - result {'pack': 'o-1'} (run ") for line in packed)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_python_dash_m_flowconsole_is_the_flowconsole_command() -> None:
    proc = _flowconsole("--version")
    out, _ = proc.communicate(timeout=60)
    from engine import __version__

    assert proc.returncode == 0 and out.strip() == f"flowconsole {__version__}"


def test_python_dash_m_flowconsole_reports_a_bad_flag_in_one_line() -> None:
    proc = _flowconsole("run", "--no-such-flag")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err.count("\n") == 1
