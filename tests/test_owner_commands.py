"""Commands that change state reach the live owner of the state directory, from other processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from engine import EventBus, FakeClock, Runtime
from engine.store import CommandBook, CommandStatus, OwnerLock, Store, read_owner

BILLING = """
    import pathlib, time
    from engine import DAGWorkflow, workflow

    MARKER = pathlib.Path({marker!r})

    def charge():
        with MARKER.open("a") as out:
            out.write("charge\\n")
        time.sleep({pause})
        return "charged"

    @workflow(name="billing")
    def build(ctx):
        dag = DAGWorkflow("billing")
        dag.add_task("charge", charge)
        return dag
"""


@pytest.fixture
def letter(tmp_path):
    """A state directory holding one dead letter of task ``billing.charge``; returns (state, id)."""
    state = tmp_path / "state"
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(state).attach(runtime)
    dead = runtime.dlq.add(source="task", unit="charge", error=ValueError("card declined"),
                           payload={"inputs": {}}, workflow="billing")
    store.close()
    return state, dead.id


def _flows(tmp_path, pause=0.0):
    folder = tmp_path / "flows"
    folder.mkdir()
    marker = tmp_path / "charges.txt"
    (folder / "billing.py").write_text(textwrap.dedent(BILLING.format(marker=str(marker), pause=pause)))
    return folder, marker


def _start_owner(flows, state):
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(flows), "--watch", "--state-dir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        owner = read_owner(state)
        if owner is not None and owner.pid == process.pid:
            return process  # commands sent before its server starts wait, pending, for it
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the owner never took the lock")


def _stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def _dlq(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "dlq", *args], capture_output=True, text=True, timeout=timeout,
    )


def _letter_status(state, letter_id):
    return json.loads(_dlq("show", letter_id, "--json", "--state-dir", str(state)).stdout)


def test_a_letter_is_retried_by_the_live_owner_with_its_own_workflow_files(tmp_path, letter):
    state, letter_id = letter
    flows, marker = _flows(tmp_path)
    owner = _start_owner(flows, state)
    try:
        result = _dlq("retry", letter_id, "--state-dir", str(state), "--reason", "card fixed")
        shown = _letter_status(state, letter_id)
    finally:
        _stop(owner)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{letter_id}: resolved"
    assert marker.read_text() == "charge\n"
    assert shown["status"] == "resolved"
    assert any(h["action"] == "retry" and h["reason"] == "card fixed" for h in shown["history"])


def test_the_same_letter_retried_twice_at_once_runs_once(tmp_path, letter):
    state, letter_id = letter
    flows, marker = _flows(tmp_path, pause=1.0)
    owner = _start_owner(flows, state)
    command = [sys.executable, "-m", "console.cli", "dlq", "retry", letter_id, "--state-dir", str(state)]
    try:
        both = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [process.communicate(timeout=60) for process in both]
        codes = sorted(process.returncode for process in both)
    finally:
        _stop(owner)
    assert marker.read_text() == "charge\n"
    assert codes == [0, 1], outcomes
    assert sum("resolved" in out for out, _ in outcomes) == 1


def test_a_discard_through_the_owner_is_recorded_with_its_reason(tmp_path, letter):
    state, letter_id = letter
    flows, _ = _flows(tmp_path)
    owner = _start_owner(flows, state)
    try:
        result = _dlq("discard", letter_id, "--state-dir", str(state), "--reason", "duplicate order")
        shown = _letter_status(state, letter_id)
    finally:
        _stop(owner)
    assert result.returncode == 0 and result.stdout.strip() == f"{letter_id}: discarded"
    assert shown["status"] == "discarded"


def test_a_retry_of_a_letter_that_does_not_exist_is_bad_input_even_with_an_owner(tmp_path, letter):
    state, _ = letter
    flows, _ = _flows(tmp_path)
    owner = _start_owner(flows, state)
    try:
        result = _dlq("retry", "dl-nope", "--state-dir", str(state))
    finally:
        _stop(owner)
    assert result.returncode == 2 and "dl-nope" in result.stderr and result.stderr.count("\n") == 1


def test_an_owner_that_never_answers_times_out_with_one_line(tmp_path, letter):
    state, letter_id = letter
    with OwnerLock.acquire(state):  # holds the lock but serves no commands
        result = _dlq("retry", letter_id, "--state-dir", str(state), "--timeout", "0.5")
    assert result.returncode == 1
    assert "no live engine answered within 0.5s" in result.stderr and result.stderr.count("\n") == 1
    [command] = _commands(state)
    assert command.status == CommandStatus.PENDING and command.deadline < time.time()


def test_with_no_owner_the_cli_acts_itself_and_holds_the_lock_meanwhile(tmp_path, letter):
    state, letter_id = letter
    flows, marker = _flows(tmp_path, pause=1.5)
    process = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "dlq", "retry", letter_id, "--state-dir", str(state),
         "--workflows", str(flows)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    owner_meanwhile = read_owner(state)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert owner_meanwhile is not None and owner_meanwhile.pid == process.pid
    assert read_owner(state) is None


def test_kill_9_of_the_owner_runs_no_command_twice_and_none_after_its_deadline(tmp_path, letter):
    state, letter_id = letter
    flows, marker = _flows(tmp_path, pause=30.0)
    owner = _start_owner(flows, state)
    sender = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "dlq", "retry", letter_id, "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    owner.kill()
    owner.wait(30)
    sender.kill()
    sender.wait(30)
    book = CommandBook(state)
    late = book.submit("dlq.retry", {"id": letter_id}, actor="test", reason=None, now=time.time(), timeout=0.2)
    time.sleep(0.4)  # past the late command's deadline, with no owner alive
    restarted = _start_owner(flows, state)
    try:
        deadline = time.monotonic() + 30
        while book.get(late.id).status == CommandStatus.PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a command wrongly run would have started its task by now
    finally:
        _stop(restarted)
    statuses = {command.id: command for command in _commands(state)}
    accepted = [c for c in statuses.values() if c.id != late.id]
    assert [c.status for c in accepted] == [CommandStatus.FAILED]
    assert "outcome is unknown" in accepted[0].error
    assert statuses[late.id].status == CommandStatus.EXPIRED
    assert marker.read_text() == "charge\n"


def _commands(state):
    book = CommandBook(state)
    with book._conn() as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM commands ORDER BY created")]
    return [book.get(command_id) for command_id in ids]
