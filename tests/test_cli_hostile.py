"""The command line sends no control byte of a workflow's strings to the terminal.

Each test runs the real ``flowconsole`` command in a subprocess with its
output on a pipe (as ``flowconsole ... | cat -v`` would see it) and checks
that no ESC, BEL, NUL, CR, C1 control or bidi override arrives, while the
text stays readable (made visible as the console shows it) and ``--json``
stays valid JSON that decodes to the original characters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.console.hostile import FORBIDDEN

ROOT = Path(__file__).resolve().parents[1]

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
HOSTILE = (
    f"{OSC52} clear\x1b[2J link\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ "
    "bell\x07 nul\x00 cr\rover c1\x9b31m bidi\u202eabc\u202c"
)
RAW = [*FORBIDDEN, "\r", "\x9b"]

IMPORT_FAILS = f"raise ValueError({HOSTILE!r})\n"

TASK_FAILS = f'''
from engine import workflow
from engine.dag import DAGWorkflow


def explode():
    raise ValueError({HOSTILE!r})


@workflow(name="hostile")
def build():
    dag = DAGWorkflow("hostile")
    dag.add_task("boom", explode)
    return dag
'''


def flowconsole(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        cwd=cwd, capture_output=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def assert_clean(data: bytes) -> str:
    text = data.decode("utf-8")
    leaked = [repr(bad) for bad in RAW if bad in text]
    assert not leaked, f"raw {', '.join(leaked)} reached the terminal: {text!r}"
    return text


@pytest.fixture
def workflows(tmp_path: Path):
    def make(name: str, source: str) -> Path:
        folder = tmp_path / "wf"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.py").write_text(source)
        return folder
    return make


def test_validate_shows_a_hostile_load_error_with_its_escapes_visible(workflows):
    result = flowconsole("validate", str(workflows("bad", IMPORT_FAILS)))
    assert result.returncode == 1
    out = assert_clean(result.stdout)
    assert_clean(result.stderr)
    assert "␛]52;c;SGVsbG8=␇" in out and "␛[2J" in out and "<U+202E>" in out


def test_run_prints_a_hostile_load_error_and_its_log_line_with_no_control_byte(workflows):
    result = flowconsole("run", str(workflows("bad", IMPORT_FAILS)))
    assert result.returncode == 1
    assert_clean(result.stdout)
    err = assert_clean(result.stderr)
    assert "workflow file failed to load:" in err
    assert "␛]52;c;SGVsbG8=␇" in err


def test_run_prints_a_hostile_task_failure_visibly(workflows):
    result = flowconsole("run", str(workflows("hostile", TASK_FAILS)))
    assert result.returncode == 1
    out = assert_clean(result.stdout)
    assert_clean(result.stderr)
    assert "hostile: FAILED" in out and "␛[2J" in out


def test_run_json_stays_valid_json_carrying_the_original_characters(workflows):
    result = flowconsole("run", str(workflows("bad", IMPORT_FAILS)), "--json")
    out = assert_clean(result.stdout)
    err = assert_clean(result.stderr)
    events = [json.loads(line) for line in out.splitlines()]
    failed = [e for e in events if e["type"] == "workflow.load_failed"]
    assert failed and HOSTILE in failed[0]["data"]["message"]
    logs = [json.loads(line) for line in err.splitlines()]
    assert any(HOSTILE in record["message"] for record in logs)


def test_dlq_list_show_and_metrics_print_a_hostile_letter_with_no_control_byte(workflows, tmp_path):
    state = tmp_path / "state"
    folder = workflows("hostile", TASK_FAILS)
    assert flowconsole("run", str(folder), "--state-dir", str(state)).returncode == 1

    listing = flowconsole("dlq", "list", "--state-dir", str(state))
    table = assert_clean(listing.stdout)
    assert listing.returncode == 0 and "␛]52;c;SGVsbG8=␇" in table
    letter_id = table.splitlines()[1].split()[0]
    shown = flowconsole("dlq", "show", letter_id, "--state-dir", str(state))
    assert shown.returncode == 0
    assert "␛[2J" in assert_clean(shown.stdout)
    as_json = flowconsole("dlq", "show", letter_id, "--json", "--state-dir", str(state))
    assert HOSTILE in json.loads(assert_clean(as_json.stdout))["error"]
    metrics = flowconsole("metrics", "--state-dir", str(state))
    assert metrics.returncode == 0
    assert_clean(metrics.stdout)


def test_through_a_shell_pipe_no_control_byte_arrives(workflows):
    # Both streams through one shell pipe, as an operator's `... 2>&1 | less`
    # would get them. (`cat -v` itself cannot judge: it marks every UTF-8
    # byte of a control picture such as ␛ as M-..., so the bytes are checked.)
    folder = workflows("bad", IMPORT_FAILS)
    piped = subprocess.run(
        f"{sys.executable} -m console.cli validate {folder} 2>&1 | cat",
        shell=True, cwd=ROOT, capture_output=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    text = assert_clean(piped.stdout)
    assert "bad.py:1:" in text and "␛]52;c;SGVsbG8=␇" in text
