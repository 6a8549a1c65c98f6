"""One engine owns a state directory: the owner lock, and who it says it is."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from engine import Engine, StateDirBusyError
from engine.store import OwnerLock, read_owner


def _flows(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "hello.py").write_text(textwrap.dedent("""
        from engine import DAGWorkflow, workflow

        @workflow(name="hello")
        def build(ctx):
            dag = DAGWorkflow("hello")
            dag.add_task("greet", lambda: "hi")
            return dag
    """))
    return folder


def _owner_process(flows, state):
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(flows), "--watch", "--state-dir", str(state)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


def _wait_for_owner(state, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owner = read_owner(state)
        if owner is not None and owner.pid == process.pid:
            return owner
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError("the owner process never took the lock")


def test_a_second_engine_on_an_owned_state_dir_is_refused_with_the_owners_details(tmp_path):
    state = tmp_path / "state"
    with Engine(None, state_dir=state, watch=False, schedules=False):
        second = Engine(None, state_dir=state, watch=False, schedules=False)
        with pytest.raises(StateDirBusyError) as caught:
            second.start()
    assert caught.value.owner.pid == os.getpid()
    assert caught.value.owner.host == socket.gethostname()
    assert caught.value.state_dir == state


def test_a_stopped_engine_gives_the_state_dir_up(tmp_path):
    state = tmp_path / "state"
    with Engine(None, state_dir=state, watch=False, schedules=False):
        assert read_owner(state) is not None
    assert read_owner(state) is None
    with Engine(None, state_dir=state, watch=False, schedules=False):
        assert read_owner(state).pid == os.getpid()


def test_the_owner_records_who_it_is(tmp_path):
    flows = _flows(tmp_path)
    state = tmp_path / "state"
    with Engine(flows, state_dir=state, watch=False, schedules=False):
        owner = read_owner(state)
    assert owner.label() == f"{os.getpid()}@{socket.gethostname()}"
    assert owner.workflow_dir == str(flows.resolve())
    assert owner.version and owner.started_at <= time.time()


def test_a_state_dir_without_an_owner_reads_as_none(tmp_path):
    assert read_owner(tmp_path / "never-made") is None
    (tmp_path / "empty").mkdir()
    assert read_owner(tmp_path / "empty") is None


def test_a_new_state_dir_is_private_to_its_user(tmp_path):
    state = tmp_path / "state"
    OwnerLock.acquire(state).release()
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


def test_a_busy_engine_does_not_start_anything(tmp_path):
    state = tmp_path / "state"
    flows = _flows(tmp_path)
    with OwnerLock.acquire(state):
        engine = Engine(flows, state_dir=state, watch=False, schedules=False)
        with pytest.raises(StateDirBusyError):
            engine.start()
        assert engine.store is None and engine.workflow_names() == []


def test_a_second_flowconsole_run_names_the_owner_and_exits_1(tmp_path):
    flows = _flows(tmp_path)
    state = tmp_path / "state"
    owner = _owner_process(flows, state)
    try:
        info = _wait_for_owner(state, owner)
        second = subprocess.run(
            [sys.executable, "-m", "console.cli", "run", str(flows), "--state-dir", str(state)],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        owner.send_signal(signal.SIGINT)
        owner.wait(30)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"pid {info.pid} on {info.host}" in lines[0]
    assert "flowconsole status --state-dir" in lines[0]


def test_the_console_refuses_an_owned_state_dir_before_opening(tmp_path):
    flows = _flows(tmp_path)
    state = tmp_path / "state"
    with OwnerLock.acquire(state):
        result = subprocess.run(
            [sys.executable, "-m", "console.cli", str(flows), "--state-dir", str(state)],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and f"pid {os.getpid()}" in result.stderr


def test_kill_9_of_the_owner_frees_the_state_dir(tmp_path):
    flows = _flows(tmp_path)
    state = tmp_path / "state"
    owner = _owner_process(flows, state)
    _wait_for_owner(state, owner)
    owner.kill()
    owner.wait(30)
    assert read_owner(state) is None
    with Engine(flows, state_dir=state, watch=False, schedules=False):
        assert read_owner(state).pid == os.getpid()


def test_status_names_the_live_owner_and_null_without_one(tmp_path):
    flows = _flows(tmp_path)
    state = tmp_path / "state"
    owner = _owner_process(flows, state)
    try:
        info = _wait_for_owner(state, owner)
        live = subprocess.run(
            [sys.executable, "-m", "console.cli", "status", "--state-dir", str(state), "--json"],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        owner.send_signal(signal.SIGINT)
        owner.wait(30)
    after = subprocess.run(
        [sys.executable, "-m", "console.cli", "status", "--state-dir", str(state), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert live.returncode == 0 and after.returncode == 0
    reported = json.loads(live.stdout)["owner"]
    assert {key: reported[key] for key in ("pid", "host")} == {"pid": info.pid, "host": info.host}
    assert set(reported) >= {"pid", "host", "started_at", "version", "workflow_dir"}
    assert reported["workflow_dir"] == str(flows.resolve())
    assert json.loads(after.stdout)["owner"] is None
