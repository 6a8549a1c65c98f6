"""Command-line arguments that cannot be acted on, and a reader that goes away."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from engine import EventBus, FakeClock, Runtime
from engine.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_workflows"


def exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse refuses a flag by exiting
        return int(stop.code)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "soon"])
def test_run_refuses_a_timeout_that_is_not_a_positive_number_in_one_line(value, capsys):
    assert exit_code(["run", str(SAMPLES), f"--timeout={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--timeout" in err and value in err


def test_run_refuses_a_negative_check_timeout_in_one_line(capsys):
    assert exit_code(["run", str(SAMPLES), "--check-timeout", "-5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--check-timeout" in err and "positive" in err


@pytest.mark.parametrize("command", [["validate", str(SAMPLES)], ["metrics", "--workflows", str(SAMPLES)]])
def test_other_commands_refuse_a_nan_timeout_too(command, capsys):
    assert exit_code([*command, "--timeout", "nan"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_dlq_show_into_a_pipe_closed_early_exits_quietly(tmp_path):
    state = tmp_path / "state"
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(state).attach(runtime)
    # Far more than a pipe holds, so the writer is still writing when head leaves.
    letter = runtime.dlq.add(source="task", unit="big", error=ValueError("no"), payload={"rows": ["x" * 100] * 5000})
    store.close()
    piped = subprocess.run(
        f"{sys.executable} -m console.cli dlq show {letter.id} --state-dir {state} | head -1",
        shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert piped.stdout.startswith("id:")
    assert piped.stderr == ""
