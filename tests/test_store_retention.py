"""The store's default retention, and what retention never deletes."""

from __future__ import annotations

import pytest

from engine import Event, EventBus, FakeClock, Runtime
from engine.dag import DAGWorkflow, WorkflowError
from engine.store import DEFAULT_RETENTION, Retention, Store


def test_a_store_keeps_a_million_events_or_seven_days_unless_told_otherwise(tmp_path):
    with Store.open(tmp_path) as store:
        assert store.retention == DEFAULT_RETENTION
    assert (DEFAULT_RETENTION.max_events, DEFAULT_RETENTION.max_age) == (1_000_000, 7 * 86_400)


def test_retention_keeps_the_events_of_a_run_still_running(tmp_path):
    clock = FakeClock(start=100_000.0)
    with Store.open(tmp_path, retention=Retention(max_age=60, chunk=3), clock=clock) as store:
        store.append(Event("run.started", {"tasks": {}}, workflow="wf", run_id="live", ts=1_000.0))
        store.append(Event("task.started", {"task": "t", "attempt": 1}, workflow="wf", run_id="live", ts=1_001.0))
        store.append(Event("run.started", {"tasks": {}}, workflow="wf", run_id="done", ts=1_002.0))
        store.append(Event("run.completed", {}, workflow="wf", run_id="done", ts=1_003.0))
        for i in range(10):
            store.append(Event("old", {"i": i}, ts=1_010.0 + i))
        store.append(Event("new", {}, ts=99_990.0))
        store.flush()
        store.compact()
        kept = [(e.type, e.run_id) for e in store.events()]
    assert kept == [("run.started", "live"), ("task.started", "live"), ("new", None)]


def test_dead_letters_outlive_the_events_retention_drops(tmp_path):
    runtime = Runtime(EventBus())
    with Store.open(tmp_path, retention=Retention(max_events=1)) as store:
        store.attach(runtime)
        dag = DAGWorkflow("wf", runtime=runtime)
        dag.add_task("boom", lambda: 1 / 0)
        run = dag.start()
        with pytest.raises(WorkflowError):
            run.wait(10)
        store.flush()
        store.compact()
        assert len(store.events()) == 1
        assert [letter.unit for letter in store.dead_letters.all()] == ["boom"]
    runtime.bus.close()
