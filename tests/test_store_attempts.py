"""The attempt log: attempt starts on record before the task runs, merged after a crash."""

from __future__ import annotations

import json
import threading
import subprocess
import sys
from pathlib import Path

from engine import Event, EventBus, FakeClock, Runtime
from engine.store import Store
from engine.store.attempts import AttemptLog

ROOT = Path(__file__).resolve().parent.parent


def _started(task: str, attempt: int, run_id: str = "r1") -> Event:
    return Event("task.started", {"task": task, "attempt": attempt}, workflow="etl", run_id=run_id)


def run_killed(script: str, state_dir: Path) -> None:
    """Run ``script`` in a child process that must end by SIGKILL."""
    done = subprocess.run([sys.executable, "-c", script, str(state_dir)], cwd=ROOT, timeout=60)
    assert done.returncode == -9


def test_task_started_is_on_record_before_the_publisher_returns(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    with Store.open(tmp_path).attach(runtime) as store:
        gate = threading.Event()
        store.write(lambda conn: gate.wait(10))  # hold the writer: nothing commits
        runtime.bus.publish(_started("extract", 1))
        [log] = list(tmp_path.glob("attempts-*.log"))
        assert json.loads(log.read_bytes().rstrip(b"\0")) == ["etl", "r1", "extract", 1]
        gate.set()


def test_full_durability_waits_for_the_commit_instead(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    with Store.open(tmp_path, durability="full").attach(runtime) as store:
        runtime.bus.publish(_started("extract", 1))
        assert store.tasks("r1")["extract"].attempts == 1
        assert not list(tmp_path.glob("attempts-*.log"))


def test_clean_close_removes_the_attempt_file(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(tmp_path).attach(runtime)
    runtime.bus.publish(_started("extract", 1))
    store.close()
    assert not list(tmp_path.glob("attempts-*.log"))


def test_attempts_of_a_killed_process_are_merged_on_next_open(tmp_path):
    script = (
        "import os, signal, sys\n"
        "from engine import Event, EventBus, Runtime\n"
        "from engine.store import Store\n"
        "rt = Runtime(EventBus()); store = Store.open(sys.argv[1]).attach(rt)\n"
        "store.write(lambda conn: __import__('time').sleep(30))\n"
        "rt.bus.publish(Event('task.started', {'task': 'poison', 'attempt': 2}, workflow='etl', run_id='r9'))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    run_killed(script, tmp_path)
    assert len(list(tmp_path.glob("attempts-*.log"))) == 1
    with Store.open(tmp_path) as store:
        [run] = store.runs()
        assert (run.run_id, run.workflow, run.status) == ("r9", "etl", "running")
        assert store.tasks("r9")["poison"].attempts == 2
    assert not [p for p in tmp_path.glob("attempts-*.log") if p.stat().st_size]


def test_a_live_process_attempt_file_is_left_alone(tmp_path):
    live = AttemptLog(tmp_path)
    live.record("etl", "r1", "t", 1, 1)
    with Store.open(tmp_path) as store:
        assert store.tasks("r1") == {}
    assert live.path.exists()
    live.close(clean=True)


def test_merge_keeps_a_completed_task_completed(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    with Store.open(tmp_path).attach(runtime) as store:
        runtime.bus.publish(_started("t", 1))
        runtime.bus.publish(Event("task.completed", {"task": "t", "attempt": 1, "result": 5},
                                  workflow="etl", run_id="r1"))
        store.flush()
        orphan = AttemptLog(tmp_path)
        orphan.record("etl", "r1", "t", 1, 1)
        orphan.close(clean=False)  # as if its process had died
    with Store.open(tmp_path) as store:
        record = store.tasks("r1")["t"]
        assert (record.status, record.result, record.attempts) == ("completed", 5, 1)


def test_attempt_file_is_emptied_once_everything_in_it_is_committed(tmp_path):
    log = AttemptLog(tmp_path)
    for ticket in range(1, 40_000):
        log.record("etl", "r1", f"task-{ticket}", 1, ticket)
    assert len(log.recorded) > 1 << 20  # more than the file's first size: it grew
    log.committed(39_998)
    assert log.recorded
    log.committed(39_999)
    assert log.recorded == b""
    assert not log.path.read_bytes().strip(b"\0")
    log.close(clean=True)


def test_lines_recorded_before_a_kill_are_in_the_file_without_any_flush(tmp_path):
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from engine.store.attempts import AttemptLog\n"
        "log = AttemptLog(Path(sys.argv[1]))\n"
        "for i in range(3):\n"
        "    log.record('etl', 'r1', f't{i}', 1, i + 1)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    run_killed(script, tmp_path)
    [path] = tmp_path.glob("attempts-*.log")
    lines = path.read_bytes().rstrip(b"\0").splitlines()
    assert [json.loads(line) for line in lines] == [["etl", "r1", f"t{i}", 1] for i in range(3)]
