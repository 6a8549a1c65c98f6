"""The watcher with an injected change source: filtering and error handling."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from engine.host.watcher import Watcher


def source_of(batches: list[set[Path]], done: threading.Event):
    def source(stop: threading.Event):
        yield from batches
        done.set()
        stop.wait()
        return
    return source


def test_only_workflow_files_of_the_directory_reach_the_callback(tmp_path):
    seen: list[set[Path]] = []
    done = threading.Event()
    batches = [
        {tmp_path / "a.py", tmp_path / ".a.py.swp", tmp_path / "notes.txt"},
        {tmp_path / "_helper.py", tmp_path / "4913"},
        {tmp_path / "b.py"},
    ]
    watcher = Watcher(tmp_path, seen.append, source=source_of(batches, done))
    watcher.start()
    assert done.wait(5)
    watcher.stop()
    assert seen == [{tmp_path / "a.py"}, {tmp_path / "b.py"}]
    assert watcher.batches == 2


def test_a_failing_callback_does_not_stop_the_watcher(tmp_path):
    calls: list[set[Path]] = []
    done = threading.Event()

    def on_change(paths: set[Path]) -> None:
        calls.append(paths)
        raise RuntimeError("reload exploded")

    batches = [{tmp_path / "a.py"}, {tmp_path / "b.py"}]
    watcher = Watcher(tmp_path, on_change, source=source_of(batches, done))
    watcher.start()
    assert done.wait(5)
    watcher.stop()
    assert len(calls) == 2


def test_watching_one_file_ignores_its_neighbours(tmp_path):
    target = tmp_path / "one.py"
    target.write_text("")
    seen: list[set[Path]] = []
    done = threading.Event()
    watcher = Watcher(target, seen.append, source=source_of([{tmp_path / "two.py"}, {target}], done))
    watcher.start()
    assert done.wait(5)
    watcher.stop()
    assert seen == [{target}]


def test_stop_ends_the_real_watchfiles_thread(tmp_path):
    watcher = Watcher(tmp_path, lambda paths: None, debounce_ms=100, step_ms=20)
    watcher.start()
    watcher.stop(timeout=5)
    assert not any(t.name == "flowconsole-watcher" for t in threading.enumerate())


def test_a_change_source_that_fails_is_started_again(tmp_path):
    seen: list[set[Path]] = []
    done = threading.Event()
    calls = []

    def source(stop: threading.Event):
        calls.append(1)
        if len(calls) == 1:
            yield {tmp_path / "a.py"}
            raise OSError("the watched directory vanished")
        yield from source_of([{tmp_path / "b.py"}], done)(stop)

    watcher = Watcher(tmp_path, seen.append, source=source, restart_delay=0.01)
    watcher.start()
    assert done.wait(5)
    watcher.stop()
    assert seen == [{tmp_path / "a.py"}, {tmp_path / "b.py"}]


def test_a_symlink_loop_in_a_batch_does_not_end_the_watcher(tmp_path):
    loop = tmp_path / "loop.py"
    os.symlink(tmp_path / "other.py", loop)
    os.symlink(loop, tmp_path / "other.py")
    seen: list[set[Path]] = []
    done = threading.Event()
    watcher = Watcher(tmp_path, seen.append, source=source_of([{loop}, {tmp_path / "b.py"}], done))
    watcher.start()
    assert done.wait(5)
    watcher.stop()
    assert seen == [{loop}, {tmp_path / "b.py"}]
