"""Entries of a workflow directory that are not readable regular files.

A symbolic link loop, a link to nothing, a directory where a file was, a
FIFO, a file nobody may read: each is reported once as
``workflow.load_failed`` naming the entry and the reason (``file: message``,
line 0), never as an ``OSError`` traceback, and neither hot reload nor the
command line stops for it.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import Engine
from engine.host.loader import WorkflowLoadError, discover, read_source

GOOD = '''from engine import DAGWorkflow, workflow


@workflow(name="{name}", description="{description}")
def build():
    dag = DAGWorkflow("{name}")
    dag.add_task("a", lambda: 1)
    return dag
'''
ROOT = Path(__file__).resolve().parent.parent


def good(name: str, description: str = "v1") -> str:
    return GOOD.format(name=name, description=description)


def watcher_alive(engine: Engine) -> bool:
    thread = engine._watcher._thread if engine._watcher is not None else None
    return thread is not None and thread.is_alive()


def make_loop(path: Path) -> None:
    other = path.with_name("_other_" + path.name)
    path.unlink(missing_ok=True)
    os.symlink(other, path)
    os.symlink(path, other)


def make_dangling(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.symlink(path.with_name("nowhere.txt"), path)


def make_directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()


def make_fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


ENTRIES = {
    "symlink_loop": (make_loop, "a loop of symbolic links"),
    "dangling_symlink": (make_dangling, "a symbolic link to nothing"),
    "directory": (make_directory, "a directory"),
    "fifo": (make_fifo, "a FIFO"),
}


class Changes:
    """A change source the test feeds by hand."""

    def __init__(self) -> None:
        self._queue: queue.Queue[set[Path]] = queue.Queue()

    def source(self, stop: threading.Event):
        while not stop.is_set():
            try:
                yield self._queue.get(timeout=0.02)
            except queue.Empty:
                continue

    def push(self, *paths: Path) -> None:
        self._queue.put(set(paths))


class Seen:
    def __init__(self, engine: Engine) -> None:
        self.events: list = []
        self._cond = threading.Condition()
        engine.bus.subscribe("workflow.*", self._on)

    def _on(self, event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait(self, predicate, timeout: float = 10.0):
        with self._cond:
            assert self._cond.wait_for(lambda: any(predicate(e) for e in self.events), timeout), self.events
            return next(e for e in self.events if predicate(e))


@pytest.mark.parametrize("kind", list(ENTRIES))
def test_read_source_refuses_an_entry_that_is_not_a_regular_file(tmp_path, kind):
    make, reason = ENTRIES[kind]
    entry = tmp_path / "entry.py"
    entry.write_text("")
    make(entry)
    with pytest.raises(WorkflowLoadError) as caught:
        read_source(str(entry))
    problem = caught.value.problem
    assert (problem.file, problem.line) == (str(entry), 0)
    assert reason in problem.message
    assert problem.format() == f"{entry}: {problem.message}"


def test_discover_lists_every_entry_named_like_a_workflow_file(tmp_path):
    make_loop(tmp_path / "loop.py")
    make_dangling(tmp_path / "dangling.py")
    (tmp_path / "dir.py").mkdir()
    (tmp_path / "ok.py").write_text("")
    names = [p.name for p in discover(tmp_path)]
    assert names == ["dangling.py", "dir.py", "loop.py", "ok.py"]


@pytest.mark.parametrize("kind", list(ENTRIES))
def test_the_watcher_reports_a_hostile_entry_and_keeps_reloading(tmp_path, kind):
    make, reason = ENTRIES[kind]
    victim, other = tmp_path / "victim.py", tmp_path / "other.py"
    victim.write_text(good("victim"))
    other.write_text(good("other"))
    changes = Changes()
    engine = Engine(tmp_path, schedules=False, check_timeout=5, change_source=changes.source, settle=0.01)
    seen = Seen(engine)
    engine.start()
    try:
        make(victim)
        changes.push(victim)
        failed = seen.wait(lambda e: e.type == "workflow.load_failed")
        assert failed.data["file"] == str(victim.absolute())
        assert failed.data["line"] == 0
        assert reason in failed.data["message"]
        assert failed.data["last_good_active"] is True
        assert watcher_alive(engine)
        other.write_text(good("other", "v2"))
        changes.push(other)
        seen.wait(lambda e: e.type == "workflow.reloaded" and e.workflow == "other")
        assert engine.definition("other").meta.description == "v2"
        assert engine.definition("victim").meta.description == "v1"
    finally:
        engine.stop()


def test_a_fifo_is_reported_once_however_often_it_changes(tmp_path):
    fifo = tmp_path / "pipe.py"
    (tmp_path / "ok.py").write_text(good("ok"))
    changes = Changes()
    engine = Engine(tmp_path, schedules=False, check_timeout=5, change_source=changes.source, settle=0.01)
    seen = Seen(engine)
    engine.start()
    try:
        make_fifo(fifo)
        for _ in range(3):
            changes.push(fifo)
        (tmp_path / "ok.py").write_text(good("ok", "v2"))
        changes.push(tmp_path / "ok.py")
        seen.wait(lambda e: e.type == "workflow.reloaded")
        assert [e.data["file"] for e in seen.events if e.type == "workflow.load_failed"] == [str(fifo)]
    finally:
        engine.stop()


def unprivileged(command: list[str]) -> list[str]:
    """``command`` without the capabilities that let root read a mode-000 file."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a mode-000 file is readable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]


def flowconsole(*args: str) -> subprocess.CompletedProcess:
    command = unprivileged([sys.executable, "-m", "console.cli", *args])
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def test_validate_reports_an_unreadable_file_on_one_line(tmp_path):
    (tmp_path / "ok.py").write_text(good("ok"))
    locked = tmp_path / "locked.py"
    locked.write_text(good("locked"))
    locked.chmod(0)
    proc = flowconsole("validate", str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"{locked}: cannot read the file: permission denied"]
    assert "Traceback" not in proc.stderr


def test_validate_reports_an_unreadable_directory_on_one_line(tmp_path):
    locked = tmp_path / "flows"
    locked.mkdir()
    (locked / "ok.py").write_text(good("ok"))
    locked.chmod(0)
    proc = flowconsole("validate", str(locked))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"{locked}: cannot list the directory: permission denied"]
    assert "Traceback" not in proc.stderr


def test_run_reports_an_unreadable_file_and_runs_the_others(tmp_path):
    (tmp_path / "ok.py").write_text(good("ok"))
    locked = tmp_path / "locked.py"
    locked.write_text(good("locked"))
    locked.chmod(0)
    proc = flowconsole("run", str(tmp_path))
    assert proc.returncode == 1
    assert f"{locked}: cannot read the file: permission denied" in proc.stderr.splitlines()
    assert "ok: ok - result" in proc.stdout
    assert "Traceback" not in proc.stderr


WATCH_UNREADABLE = '''
import queue, sys, threading
from pathlib import Path
from engine import Engine

root = Path(sys.argv[1])
changes, failed = queue.Queue(), threading.Event()

def source(stop):
    while not stop.is_set():
        try:
            yield changes.get(timeout=0.02)
        except queue.Empty:
            continue

engine = Engine(root, schedules=False, check_timeout=5, change_source=source, settle=0.01)
engine.bus.subscribe("workflow.load_failed", lambda e: (print(e.data["file"], e.data["message"]), failed.set()))
engine.start()
(root / "locked.py").chmod(0)
changes.put({root / "locked.py"})
assert failed.wait(10)
(root / "ok.py").write_text((root / "ok.py").read_text().replace("v1", "v2"))
changes.put({root / "ok.py"})
for _ in range(500):
    if engine.definition("ok").meta.description == "v2":
        break
    threading.Event().wait(0.02)
thread = engine._watcher._thread
print("watcher alive:", thread is not None and thread.is_alive(), "ok:", engine.definition("ok").meta.description)
engine.stop()
'''


def test_the_watcher_reports_a_file_made_unreadable_and_keeps_reloading(tmp_path):
    (tmp_path / "ok.py").write_text(good("ok"))
    (tmp_path / "locked.py").write_text(good("locked"))
    command = unprivileged([sys.executable, "-c", WATCH_UNREADABLE, str(tmp_path)])
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"{tmp_path / 'locked.py'} cannot read the file: permission denied",
        "watcher alive: True ok: v2",
    ]


def test_validate_reports_a_fifo_without_waiting_on_it(tmp_path, capsys):
    from console.cli import main

    (tmp_path / "ok.py").write_text(good("ok"))
    make_fifo(tmp_path / "pipe.py")
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{tmp_path / 'pipe.py'}: not loaded: a FIFO, and only regular files are workflow files"
    ]
