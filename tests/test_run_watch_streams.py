"""``flowconsole run --watch --json``: stdout carries events only, stderr log records only.

What a workflow file prints at import becomes a log record; third-party
libraries (watchfiles' "1 change detected") stay at WARNING unless asked.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parent.parent

CHATTY = '''from engine import DAGWorkflow, workflow

print("hello from import \\x1b[2J", {{"not": "json"}})
for i in range(500):
    print("line", i)


@workflow(name="chatty", trigger={{"every": "250ms"}}, description="{version}")
def build():
    print("hello from the builder")
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
'''


def test_run_watch_json_keeps_stdout_json_and_logs_import_output_and_no_library_chatter(tmp_path):
    flow = tmp_path / "chatty.py"
    flow.write_text(CHATTY.format(version="v1"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(tmp_path), "--watch", "--json", "--check-timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=ROOT,
    )
    lines: list[str] = []
    rewritten = False
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            event = json.loads(line)
            if event["type"] == "run.completed" and not rewritten:
                flow.write_text(CHATTY.format(version="v2"))
                rewritten = True
            if event["type"] == "workflow.reloaded":
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert all(json.loads(line) for line in lines)
    records = [json.loads(line) for line in err.splitlines()]
    printed = [r for r in records if "wrote while loading" in json.dumps(r)]
    assert len(printed) == 2  # the first version and the reloaded one
    assert "hello from the builder" in json.dumps(printed[0])
    assert not [r for r in records if "watchfiles" in json.dumps(r) and "INFO" in json.dumps(r)]


OK = '''from engine import DAGWorkflow, workflow


@workflow(name="ok")
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
'''


@pytest.fixture
def library_logger():
    logger = logging.getLogger("watchfiles")
    yield logger
    logger.setLevel(logging.NOTSET)


def test_run_json_keeps_library_loggers_at_warning(tmp_path, capsys, library_logger):
    (tmp_path / "ok.py").write_text(OK)
    assert main(["run", str(tmp_path), "--json"]) == 0
    assert library_logger.getEffectiveLevel() == logging.WARNING


def test_run_json_shows_library_records_when_asked(tmp_path, capsys, library_logger):
    (tmp_path / "ok.py").write_text(OK)
    assert main(["run", str(tmp_path), "--json", "--library-log-level", "info"]) == 0
    assert library_logger.getEffectiveLevel() == logging.INFO
