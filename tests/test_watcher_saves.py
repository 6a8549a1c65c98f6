"""Hot reload under every editor save style, with the real watchfiles watcher.

The active version must always end up matching the final file, a
half-written intermediate state must never be activated, and a burst of
writes must cause a handful of reloads, not one per write.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from engine import Engine

TEMPLATE = '''from engine.dag import DAGWorkflow
from engine import workflow


@workflow(name="w", description="version {version}")
def build():
    dag = DAGWorkflow("w")
{tasks}
    return dag
'''


def source(version: int, tasks: list[str]) -> str:
    lines = "\n".join(f'    dag.add_task("{t}", lambda: {version})' for t in tasks)
    return TEMPLATE.format(version=version, tasks=lines)


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Recorder:
    """Collects workflow.* events from the engine's bus."""

    def __init__(self, engine: Engine) -> None:
        self.events = []
        self._lock = threading.Lock()
        engine.bus.subscribe("workflow.*", self._on)

    def _on(self, event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: str) -> list:
        with self._lock:
            return [e for e in self.events if e.type == kind]


@pytest.fixture
def hot(tmp_path):
    path = tmp_path / "w.py"
    path.write_text(source(1, ["a"]))
    engine = Engine(tmp_path, schedules=False, check_timeout=30, debounce_ms=400, step_ms=60, settle=0.05)
    recorder = Recorder(engine)
    engine.start()
    yield engine, path, recorder
    engine.stop()


def matches(engine: Engine, path: Path) -> bool:
    definition = engine.registry.get("w")
    return definition is not None and definition.digest == hashlib.sha256(path.read_bytes()).hexdigest()


def activated_descriptions(recorder: Recorder) -> list[str]:
    return [e.data["description"] for e in recorder.of("workflow.loaded") + recorder.of("workflow.reloaded")]


def test_in_place_write_is_reloaded(hot):
    engine, path, recorder = hot
    path.write_text(source(2, ["a", "b"]))
    assert wait_for(lambda: matches(engine, path))
    assert engine.definition("w").spec == {"tasks": {"a": [], "b": []}}


def test_temp_file_and_rename_is_reloaded(hot):
    engine, path, recorder = hot
    temp = path.with_name(".w.py.swp")
    temp.write_text(source(2, ["a", "b"]))
    os.replace(temp, path)
    assert wait_for(lambda: matches(engine, path))
    assert recorder.of("workflow.load_failed") == []


def test_delete_then_create_ends_on_the_new_file(hot):
    engine, path, recorder = hot
    path.unlink()
    path.write_text(source(2, ["a", "b", "c"]))
    assert wait_for(lambda: matches(engine, path))
    assert engine.definition("w").spec == {"tasks": {"a": [], "b": [], "c": []}}


def test_split_write_never_activates_the_half_written_file(hot):
    engine, path, recorder = hot
    final = source(2, ["a", "b"])
    cut = final.index('dag.add_task("b"') + 8
    with open(path, "w") as handle:
        handle.write(final[:cut])
        handle.flush()
        time.sleep(0.5)
        handle.write(final[cut:])
    assert wait_for(lambda: matches(engine, path))
    assert activated_descriptions(recorder) == ["version 1", "version 2"]


def test_twenty_rapid_writes_cause_a_handful_of_reloads(hot):
    engine, path, recorder = hot
    for version in range(2, 22):
        path.write_text(source(version, ["a"]))
        time.sleep(0.01)
    assert wait_for(lambda: matches(engine, path))
    assert engine.definition("w").meta.description == "version 21"
    assert 1 <= len(recorder.of("workflow.reloaded")) <= 5


def test_rewriting_identical_content_does_not_reload(hot):
    engine, path, recorder = hot
    path.write_text(path.read_text())
    marker = path.with_name("marker.py")
    marker.write_text(TEMPLATE.replace('"w"', '"marker"').format(version=0, tasks='    dag.add_task("m", lambda: 0)'))
    assert wait_for(lambda: "marker" in engine.workflow_names())
    assert recorder.of("workflow.reloaded") == []


def test_broken_save_keeps_last_good_version_then_a_fix_reloads(hot):
    engine, path, recorder = hot
    path.write_text("from engine import workflow\nthis is not python\n")
    assert wait_for(lambda: recorder.of("workflow.load_failed"))
    failure = recorder.of("workflow.load_failed")[0].data
    assert (failure["line"], failure["last_good_active"]) == (2, True)
    assert engine.run("w", timeout=10) == {"a": 1}
    path.write_text(source(3, ["a"]))
    assert wait_for(lambda: matches(engine, path))
    assert engine.run("w", timeout=10) == {"a": 3}
