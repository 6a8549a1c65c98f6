"""Versions, atomic replacement and retirement in the workflow registry."""

from __future__ import annotations

import pytest

from engine import Runtime, UnknownWorkflowError, WorkflowNameConflict, workflow
from engine.host.registry import Registry, spec_changes
from engine.host.workflow_file import collecting, stop_collecting
from engine.host.kinds import BuiltWorkflow


def built(name: str, spec: dict, file: str = "/w/a.py", kind: str = "dag", **meta) -> BuiltWorkflow:
    found, token = collecting()
    try:
        workflow(name=name, **meta)(lambda: None)
    finally:
        stop_collecting(token)
    return BuiltWorkflow(found[0].meta, kind, object(), spec, file, 1)


@pytest.fixture
def registry():
    return Registry(Runtime())


def test_first_install_loads_generation_one(registry):
    change = registry.install("/w/a.py", "d1", [built("etl", {"tasks": {"a": []}})])
    assert [d.generation for d in change.loaded] == [1]
    assert registry.runtime.definitions.get("etl") is change.loaded[0].obj


def test_reinstall_makes_a_new_generation_current(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {"a": []}})])
    change = registry.install("/w/a.py", "d2", [built("etl", {"tasks": {"a": [], "b": ["a"]}})])
    old, new = change.reloaded[0]
    assert (old.generation, new.generation) == (1, 2)
    assert registry.get("etl") is new and registry.digest("/w/a.py") == "d2"


def test_a_name_owned_by_another_file_installs_nothing(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {}})])
    with pytest.raises(WorkflowNameConflict, match="already declared in /w/a.py"):
        registry.install("/w/b.py", "d9", [built("other", {}, "/w/b.py"), built("etl", {}, "/w/b.py")])
    assert registry.names() == ["etl"]


def test_an_in_flight_run_keeps_the_version_it_acquired(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {}})])
    running = registry.acquire("etl")
    registry.install("/w/a.py", "d2", [built("etl", {"tasks": {"x": []}})])
    assert running.generation == 1
    assert registry.acquire("etl").generation == 2


def test_removed_file_retires_until_the_last_run_is_released(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {}})])
    registry.acquire("etl")
    change = registry.remove_file("/w/a.py")
    assert [d.name for d in change.retiring] == ["etl"] and change.unloaded == []
    with pytest.raises(UnknownWorkflowError, match="being unloaded"):
        registry.acquire("etl")
    gone = registry.release("etl")
    assert gone is not None and gone.name == "etl"
    assert registry.runtime.definitions.get("etl") is None


def test_removed_file_without_runs_unloads_at_once(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {}})])
    change = registry.remove_file("/w/a.py")
    assert [d.name for d in change.unloaded] == ["etl"]
    assert registry.names() == []


def test_a_declaration_dropped_from_its_file_is_retired(registry):
    registry.install("/w/a.py", "d1", [built("etl", {}), built("report", {})])
    change = registry.install("/w/a.py", "d2", [built("etl", {})])
    assert [d.name for d in change.unloaded] == ["report"]


def test_dag_changes_list_tasks_added_removed_and_changed(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {"a": [], "b": ["a"], "c": []}})])
    change = registry.install("/w/a.py", "d2", [built("etl", {"tasks": {"a": [], "b": [], "d": []}})])
    changes = spec_changes(*change.reloaded[0])
    assert changes["tasks"] == {"added": ["d"], "removed": ["c"], "changed": ["b"]}
    assert changes["summary"] == "tasks added: d; tasks removed: c; tasks changed: b"


def test_saga_changes_list_steps(registry):
    registry.install("/w/a.py", "d1", [built("s", {"steps": ["a", "b"]}, kind="saga")])
    change = registry.install("/w/a.py", "d2", [built("s", {"steps": ["a", "c"]}, kind="saga")])
    assert spec_changes(*change.reloaded[0])["steps"] == {"added": ["c"], "removed": ["b"]}


def test_metadata_changes_are_named(registry):
    registry.install("/w/a.py", "d1", [built("etl", {"tasks": {}}, description="one")])
    change = registry.install("/w/a.py", "d2", [built("etl", {"tasks": {}}, description="two")])
    changes = spec_changes(*change.reloaded[0])
    assert changes["metadata"] == ["description"]
    assert changes["summary"] == "metadata changed: description"
