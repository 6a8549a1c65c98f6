"""Ctrl+C during ``flowconsole run``: a first one says what is still running
and how to force the exit; a second one exits at once, and the run resumes
on the next start. Real subprocesses, real SIGINTs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from engine.store import Store

ROOT = Path(__file__).resolve().parents[1]

BLOCKING = '''
import threading
from pathlib import Path

from engine import RetryPolicy, workflow
from engine.dag import DAGWorkflow

MARK = Path({mark!r})


def hold():
    MARK.write_text("started")
    threading.Event().wait()


@workflow(name="slow")
def build():
    dag = DAGWorkflow("slow")
    dag.add_task("hold", hold, retry=RetryPolicy(max_attempts=2, base_delay=0))
    return dag
'''

QUICK = '''
from engine import RetryPolicy, workflow
from engine.dag import DAGWorkflow


@workflow(name="slow")
def build():
    dag = DAGWorkflow("slow")
    # The interrupted attempt counts: a second one is left for the resumed run.
    dag.add_task("hold", lambda: "done", retry=RetryPolicy(max_attempts=2, base_delay=0))
    return dag
'''


class Lines:
    """Collects a stream's lines on a thread, so the test can wait for one."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 30.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(text in line for line in self.lines), timeout)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "the run ended before its task started"
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)


def test_first_ctrl_c_says_what_runs_and_the_second_exits_at_once(tmp_path):
    folder, mark, state = tmp_path / "wf", tmp_path / "started", tmp_path / "state"
    folder.mkdir()
    (folder / "slow.py").write_text(BLOCKING.format(mark=str(mark)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "run", str(folder), "--state-dir", str(state)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        err = Lines(proc.stderr)
        _wait_for_file(mark, proc)
        proc.send_signal(signal.SIGINT)
        assert err.wait_for("resume on the next start")
        assert proc.poll() is None  # still waiting for the task, as it said

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        proc.kill()
        proc.wait()
    assert "press ctrl+c again to exit now" in err.text
    assert "still running: slow: task hold (run " in err.text
    assert f"--state-dir {state}" in err.text
    assert "Traceback" not in err.text

    # The next start recovers the interrupted run (now quick) and ends it.
    (folder / "slow.py").write_text(QUICK)
    again = subprocess.run(
        [sys.executable, "-m", "console.cli", "run", str(folder), "--state-dir", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert again.returncode == 0, again.stderr
    with Store.open(state) as store:
        runs = store.runs(kind="dag")
    assert len(runs) == 2 and {run.status for run in runs} == {"completed"}
