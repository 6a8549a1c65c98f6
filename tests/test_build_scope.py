"""Inside a workflow file's builder the engine's runtime is the default for
everything made there, threads started from it included."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from engine import Engine, EventDrivenWorkflow, current_runtime

EVENT_DRIVEN_WITHOUT_BUS = '''
from engine import workflow, EventDrivenWorkflow

SEEN = []


@workflow(name="listens")
def build():
    flow = EventDrivenWorkflow("listens")

    @flow.on_event("ping")
    def on_ping(event):
        flow.emit("pong", {"n": event.data["n"]})

    return flow
'''

THREAD_AT_BUILD = '''
import threading

from engine import workflow, current_runtime
from engine.dag import DAGWorkflow


def report():
    current_runtime().bus.emit("from.thread", {})


@workflow(name="starts_a_thread")
def build():
    outer = threading.Thread(target=lambda: threading.Thread(target=report).start())
    outer.start()
    outer.join()
    dag = DAGWorkflow("starts_a_thread")
    dag.add_task("one", lambda: 1)
    return dag
'''


THREAD_AT_IMPORT = '''
import threading

from engine import workflow
from engine.dag import DAGWorkflow

threading.Thread(target=lambda: None).start()


@workflow(name="imports_a_thread")
def build():
    dag = DAGWorkflow("imports_a_thread")
    dag.add_task("one", lambda: 1)
    return dag
'''


def _engine(tmp_path: Path, source: str) -> Engine:
    (tmp_path / "wf.py").write_text(source)
    return Engine(tmp_path, watch=False, schedules=False, check_timeout=None)


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    # Threads the builder started report on their own time: poll briefly.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_an_event_driven_workflow_made_without_bus_in_a_file_gets_the_engines_events(tmp_path):
    engine = _engine(tmp_path, EVENT_DRIVEN_WITHOUT_BUS)
    pongs = []
    engine.bus.subscribe("pong", pongs.append)
    with engine:
        engine.bus.emit("ping", {"n": 7})
    assert [e.data["n"] for e in pongs] == [7]


def test_threads_started_in_a_builder_publish_to_the_engines_runtime(tmp_path):
    engine = _engine(tmp_path, THREAD_AT_BUILD)
    seen = []
    engine.bus.subscribe("from.thread", seen.append)
    with engine:
        assert _wait_for(lambda: len(seen) == 1)


def test_outside_any_engine_the_seeds_workflow_keeps_a_bus_of_its_own():
    flow = EventDrivenWorkflow("alone")
    assert flow.event_bus is not current_runtime().bus
    assert flow.event_bus.enable_event_sourcing


def test_threads_started_outside_a_build_are_left_alone():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(current_runtime()))
    thread.start()
    thread.join()
    assert seen == [current_runtime()]


def test_a_thread_started_at_import_is_reported_with_file_and_line(tmp_path, caplog):
    engine = _engine(tmp_path, THREAD_AT_IMPORT)
    with caplog.at_level(logging.WARNING, logger="engine.loader"), engine:
        assert engine.workflow_names() == ["imports_a_thread"]
    assert f"{tmp_path / 'wf.py'}:7: a thread started at import runs outside the engine" in caplog.text
