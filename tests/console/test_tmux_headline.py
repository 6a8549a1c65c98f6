"""The headline scenario in a real terminal (tmux, the installed ``flowconsole``):
a workflow's task fails for good and appears in the dead-letter panel; the
test fixes the workflow file on disk; the console reloads it; the operator
presses ``r`` on the message; it resolves. capture-pane checks each step."""

from __future__ import annotations

import time
from pathlib import Path

from tests.console.test_tmux_console import REPO, SCRIPT, Tmux, pytestmark, tmux  # noqa: F401 - fixture, skips

BROKEN = '''
from engine import RetryPolicy, workflow
from engine.dag import DAGWorkflow

FIXED = False


def charge(order):
    if not FIXED:
        raise ConnectionError("payment gateway down")
    return "charged " + str(order["amount"])


@workflow(name="checkout", description="charge fails until the file says FIXED = True")
def build():
    dag = DAGWorkflow("checkout")
    dag.add_task("order", lambda: {"amount": 3})
    dag.add_task("charge", charge, depends_on=["order"],
                 retry=RetryPolicy(max_attempts=2, base_delay=0.0, jitter="none"))
    return dag
'''


def wait_until(tmux: Tmux, check, what: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux.screen()
        if check(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{what} never appeared; the screen was:\n{screen}")


def test_dead_letter_is_retried_after_the_workflow_file_is_fixed(tmux: Tmux, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    source = flows / "checkout.py"
    source.write_text(BROKEN)
    exit_file = tmp_path / "exit"
    # A pane started from a process without a terminal gets COLUMNS=80 and
    # LINES=24 in its environment, which the app would take over the pane's
    # real size; drop them.
    env = "-u COLUMNS -u LINES LANG=C.UTF-8 LC_ALL=C.UTF-8 COLORTERM=truecolor TERM=xterm-256color"
    tmux.start(
        f"cd {REPO} && env {env} {SCRIPT} {flows} --state-dir {tmp_path / 'state'}; "
        f"echo EXIT=$? > {exit_file}; sleep 60"
    )
    # The full 140x40 pane: the header and the view keys fit on their lines.
    tmux.wait_for("8 events")
    tmux.wait_for("press r to run it")

    # The task fails for good and lands in the dead-letter panel.
    tmux.keys("r")
    tmux.wait_for("dag · failed")
    tmux.keys("5")
    screen = wait_until(tmux, lambda s: "payment gateway down" in s and "checkout / charge" in s, "the dead letter")
    assert "1 dead" in screen

    # The fix goes into the workflow file; the console shows the reload.
    source.write_text(BROKEN.replace("FIXED = False", "FIXED = True"))
    wait_until(tmux, lambda s: "Reloaded checkout" in s, "the reload notification")

    # r on the message: it resolves.
    tmux.keys("r")
    screen = wait_until(tmux, lambda s: "1 resolved" in s and "0 dead" in s, "the resolved letter")
    assert "resolved" in screen

    tmux.keys("q")
    deadline = time.monotonic() + 30
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.exists(), f"the console did not exit; the screen was:\n{tmux.screen()}"
    assert exit_file.read_text().strip() == "EXIT=0"
    assert "Traceback" not in tmux.screen()
