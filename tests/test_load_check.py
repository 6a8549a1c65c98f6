"""The child-process check: what a file can do to it, and what it cannot.

A file that signals its parent, forks, starts processes that outlive it,
prints, or hangs is reported (or its output returned) and the caller is
never harmed; no process of a check outlives it; files are checked in
parallel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from engine.host.load_check import check_files_in_child, check_in_child

HEADER = "import os, signal, subprocess, sys, time\nfrom engine import DAGWorkflow, workflow\n"
BUILDER = '''

@workflow(name="{name}")
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
'''
ROOT = Path(__file__).resolve().parent.parent


def source(body: str, name: str = "w") -> bytes:
    return (HEADER + body + BUILDER.format(name=name)).encode()


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie left to an init that does not reap counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith(("Z", "X"))
    except (FileNotFoundError, IndexError):
        return True


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return gone(pid)


def test_a_file_that_kills_its_parent_is_reported_at_that_line(tmp_path):
    file = str(tmp_path / "parricide.py")
    problems, workflows = check_in_child(file, source("os.kill(os.getppid(), signal.SIGKILL)\n"), timeout=10)
    assert problems[0].line == 3
    assert "must not signal its parent process" in problems[0].message
    assert workflows == []


def test_a_file_that_kills_its_parent_behind_the_checks_back_fails_its_check(tmp_path):
    file = str(tmp_path / "sly.py")
    body = 'subprocess.run(["kill", "-9", str(os.getppid())])\n'
    problems, _ = check_in_child(file, source(body), timeout=10)
    assert "the process that started the check died" in problems[0].message


def test_the_file_after_one_that_killed_its_parent_is_checked_afresh(tmp_path):
    sly, good = str(tmp_path / "a_sly.py"), str(tmp_path / "b_good.py")
    results = check_files_in_child({
        sly: source('subprocess.run(["kill", "-9", str(os.getppid())])\n'),
        good: source("", name="good"),
    }, timeout=10, parallel=1)
    assert results[sly].problems
    assert results[good].problems == []
    assert [w["name"] for w in results[good].workflows] == ["good"]


def test_a_file_that_forks_at_import_is_reported_and_its_fork_does_not_outlive_the_check(tmp_path):
    file, pid_file = str(tmp_path / "forker.py"), tmp_path / "pid"
    body = f"pid = os.fork()\nif pid == 0:\n    time.sleep(3600)\nopen({str(pid_file)!r}, 'w').write(str(pid))\n"
    problems, _ = check_in_child(file, source(body), timeout=10)
    assert problems[0].line == 3
    assert "must not fork the process at import" in problems[0].message
    assert wait_gone(int(pid_file.read_text()))


def test_a_process_started_at_import_does_not_outlive_the_check(tmp_path):
    file, pid_file = str(tmp_path / "spawner.py"), tmp_path / "pid"
    body = f"child = subprocess.Popen(['sleep', '3600'])\nopen({str(pid_file)!r}, 'w').write(str(child.pid))\n"
    problems, workflows = check_in_child(file, source(body), timeout=10)
    assert problems == []
    assert [w["name"] for w in workflows] == ["w"]
    assert wait_gone(int(pid_file.read_text()))


def test_what_a_file_prints_comes_back_with_its_result_not_on_stdout(tmp_path, capfd):
    file = str(tmp_path / "chatty.py")
    body = "print('hello from import')\nprint('to stderr', file=sys.stderr)\nos.write(1, b'raw fd write\\n')\n"
    result = check_in_child(file, source(body), timeout=10)
    assert result.problems == []
    assert "hello from import" in result.output
    assert "to stderr" in result.output
    assert "raw fd write" in result.output
    out, err = capfd.readouterr()
    assert "hello" not in out + err


def test_files_are_checked_in_parallel(tmp_path):
    # Each file waits until the other has started: checked one after the
    # other, the first would time out.
    a, b = tmp_path / "a.py", tmp_path / "b.py"

    def meets(me: Path, other: Path) -> bytes:
        return source(
            f"open({str(me) + '.started'!r}, 'w').close()\n"
            f"while not os.path.exists({str(other) + '.started'!r}):\n    time.sleep(0.01)\n",
            name=me.stem,
        )

    results = check_files_in_child({str(a): meets(a, b), str(b): meets(b, a)}, timeout=20, parallel=2)
    assert results[str(a)].problems == [] and results[str(b)].problems == []


def test_validate_survives_a_file_that_kills_its_parent(tmp_path):
    (tmp_path / "parricide.py").write_bytes(source("os.kill(os.getppid(), signal.SIGKILL)\n"))
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "validate", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{tmp_path / 'parricide.py'}:3: a workflow file must not signal its parent")
