"""The installed ``flowconsole`` in a real terminal (tmux): start, navigate, quit with 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "flowconsole"
TMUX = shutil.which("tmux")

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it in .ci/run)"),
    pytest.mark.skipif(not SCRIPT.exists(), reason=f"the flowconsole script is not installed at {SCRIPT}"),
    pytest.mark.skipif(
        not (REPO / "sample_workflows").is_dir(), reason="sample_workflows/ is missing from the repository"
    ),
]


class Tmux:
    """One private tmux server (its own socket), one session, one pane."""

    def __init__(self) -> None:
        self.socket = f"flowconsole-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [TMUX, "-f", "/dev/null", "-L", self.socket, *args],
            capture_output=True, text=True, timeout=20, check=True,
        )
        return result.stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-x", "140", "-y", "40", "-s", "main", command)
        self.run("set", "-g", "escape-time", "0")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "main", *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def kill(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def tmux():
    session = Tmux()
    yield session
    session.kill()


def test_installed_console_starts_navigates_and_quits_with_zero(tmux: Tmux, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit"
    env = "LANG=C.UTF-8 LC_ALL=C.UTF-8 COLORTERM=truecolor TERM=xterm-256color"
    command = (
        f"cd {REPO} && env {env} {SCRIPT} sample_workflows --state-dir {tmp_path / 'state'}; "
        f"echo EXIT=$? > {exit_file}; sleep 60"
    )
    tmux.start(command)
    screen = tmux.wait_for("DAG")
    assert "flowconsole" in screen and "workflows" in screen

    tmux.keys("8")
    tmux.wait_for("shown of")

    tmux.keys("?")
    tmux.wait_for("flowconsole keys")
    tmux.keys("Escape")
    deadline = time.monotonic() + 10
    while "flowconsole keys" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "flowconsole keys" not in tmux.screen()

    tmux.keys(":")
    tmux.wait_for("command: dag, events")
    tmux.keys("dag", "Enter")
    tmux.wait_for("Rerun from task")

    tmux.keys("q")
    deadline = time.monotonic() + 30
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.exists(), f"the console did not exit; the screen was:\n{tmux.screen()}"
    assert exit_file.read_text().strip() == "EXIT=0"
    assert "Traceback" not in tmux.screen()
