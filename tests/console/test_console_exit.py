"""The installed console exits cleanly, its engine stopped and its store closed,
on SIGTERM, SIGHUP and a closed terminal (tmux), and behind a web server when
the server closes its input (Textual's web driver, as textual-serve runs it)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.console.test_tmux_console import REPO, SCRIPT, Tmux, pytestmark, tmux  # noqa: F401 - fixture, skips

ENV = "LANG=C.UTF-8 LC_ALL=C.UTF-8 COLORTERM=truecolor TERM=xterm-256color"


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    # An exited process nobody reaped yet (its shell died with the terminal) is gone too.
    return "\nState:\tZ" in status


# Stopping as q does lets in-flight sample runs finish (up to 5 s), then cancels
# them (up to 5 s more): the console must be gone after that, not at once.
def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.1)
    return _gone(pid)


def _start(session: Tmux, tmp_path: Path) -> tuple[int, Path, Path]:
    """The console in tmux, on the samples; returns its pid, state dir and exit-code file."""
    state, pid_file, exit_file = tmp_path / "state", tmp_path / "pid", tmp_path / "exit"
    console = f"echo $$ > {pid_file}; exec env {ENV} {SCRIPT} sample_workflows --state-dir {state}"
    session.start(f"cd {REPO} && sh -c '{console}'; echo EXIT=$? > {exit_file}; sleep 60")
    session.wait_for("DAG")
    # Up and drawing, with its store open: the samples have loaded and run.
    session.wait_for("ago")
    assert (state / "flowconsole.db-wal").exists(), "the store is open (SQLite WAL mode)"
    return int(pid_file.read_text()), state, exit_file


def _closed_cleanly(state: Path) -> bool:
    # SQLite removes the write-ahead log when the last connection closes cleanly.
    return (state / "flowconsole.db").exists() and not (state / "flowconsole.db-wal").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_console_as_q_does(tmux: Tmux, tmp_path: Path, signum: int) -> None:  # noqa: F811
    pid, state, exit_file = _start(tmux, tmp_path)
    os.kill(pid, signum)
    assert _wait_gone(pid), f"still running after {signum.name}; the screen was:\n{tmux.screen()}"
    deadline = time.monotonic() + 5
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exit_file.read_text().strip() == f"EXIT={128 + signum}"
    assert _closed_cleanly(state)
    assert "Traceback" not in tmux.screen()


def test_closing_the_terminal_ends_the_console(tmux: Tmux, tmp_path: Path) -> None:  # noqa: F811
    pid, state, _ = _start(tmux, tmp_path)
    tmux.run("kill-session", "-t", "main")
    assert _wait_gone(pid), "the console outlived its terminal"
    assert _closed_cleanly(state)


def test_behind_a_web_server_the_console_ends_when_the_server_closes_its_input(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = dict(os.environ, TEXTUAL_DRIVER="textual.drivers.web_driver:WebDriver",
               COLUMNS="120", LINES="36", LANG="C.UTF-8")
    process = subprocess.Popen(
        [str(SCRIPT), "sample_workflows", "--state-dir", str(state)], cwd=REPO, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not (state / "flowconsole.db-wal").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(1.0)
        process.stdin.close()
        process.wait(timeout=8)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert _closed_cleanly(state)
    assert b"Traceback" not in process.stderr.read()
