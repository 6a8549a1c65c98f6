"""``flowconsole attach`` in a real terminal (tmux), on a live headless owner in another process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine import EventBus, FakeClock, Runtime
from engine.store import Store, read_owner

from .test_tmux_console import SCRIPT, TMUX, Tmux

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it in .ci/run)"),
    pytest.mark.skipif(not SCRIPT.exists(), reason=f"the flowconsole script is not installed at {SCRIPT}"),
]

BILLING = """
    from engine import DAGWorkflow, workflow

    @workflow(name="billing")
    def build(ctx):
        dag = DAGWorkflow("billing")
        dag.add_task("charge", lambda: "charged")
        return dag
"""


@pytest.fixture
def tmux():
    session = Tmux()
    yield session
    session.kill()


@pytest.fixture
def owned(tmp_path):
    """A state directory with one dead letter of ``billing.charge``, and a workflow dir that fixes it."""
    state = tmp_path / "state"
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(state).attach(runtime)
    letter = runtime.dlq.add(source="task", unit="charge", error=ValueError("card declined"),
                             payload={"inputs": {}}, workflow="billing")
    store.close()
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "billing.py").write_text(textwrap.dedent(BILLING))
    return state, flows, letter.id


def _start_owner(flows: Path, state: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(SCRIPT), "run", str(flows), "--watch", "--state-dir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        owner = read_owner(state)
        if owner is not None and owner.pid == process.pid:
            return process
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the owner never took the lock")


def _letter(state: Path, letter_id: str) -> dict:
    shown = subprocess.run(
        [sys.executable, "-m", "console.cli", "dlq", "show", letter_id, "--json", "--state-dir", str(state)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(shown.stdout)


def test_attach_shows_the_owner_acts_through_it_and_follows_its_death_and_restart(tmux, owned, tmp_path):
    state, flows, letter_id = owned
    owner = _start_owner(flows, state)
    try:
        env = "LANG=C.UTF-8 LC_ALL=C.UTF-8 COLORTERM=truecolor TERM=xterm-256color"
        tmux.start(f"env {env} {SCRIPT} attach --state-dir {state} --actor oncall; sleep 60")
        tmux.wait_for(f"attached to {owner.pid}@")
        tmux.wait_for("billing")  # the owner's workflows, as it loads them
        tmux.keys("5")
        tmux.wait_for("1 dead · 0 retrying")
        tmux.keys("r")
        deadline = time.monotonic() + 30
        while _letter(state, letter_id)["status"] != "resolved" and time.monotonic() < deadline:
            time.sleep(0.2)
        letter = _letter(state, letter_id)
        assert letter["status"] == "resolved"
        assert any(h["action"] == "retry" and h["actor"] == "oncall" for h in letter["history"])
        tmux.wait_for("1 resolved")

        owner.kill()
        owner.wait(30)
        tmux.wait_for("engine gone (last seen", timeout=10)

        owner = _start_owner(flows, state)
        tmux.wait_for(f"attached to {owner.pid}@", timeout=10)
    finally:
        owner.kill()
        owner.wait(30)
