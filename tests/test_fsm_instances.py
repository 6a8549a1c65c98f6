"""Machine definitions with many instances, and the instance registry."""

from __future__ import annotations

import pytest

from engine import InstanceNotFound, InstanceRegistry, MachineDefinition, StateMachine
from engine.fsm.machine import FSMDefinitionError, TransitionRecord


@pytest.fixture
def orders(runtime):
    definition = MachineDefinition("new", name="orders", runtime=runtime, final_states=["shipped"])
    definition.add_transition("new", "paid", "pay")
    definition.add_transition("paid", "shipped", "ship")
    return definition


def test_instances_of_one_definition_keep_their_own_state_and_context(orders):
    first = orders.create_instance("o-1", context={"total": 10})
    second = orders.create_instance("o-2")
    first.trigger("pay")
    assert first.current_state == "paid"
    assert second.current_state == "new"
    assert first.context == {"total": 10} and second.context == {}
    assert second.history == ["new"]


def test_definition_routes_events_by_instance_id(orders):
    orders.create_instance("o-1")
    assert orders.fire("o-1", "pay") is True
    assert orders.instance("o-1").current_state == "paid"


def test_duplicate_instance_id_is_refused(orders):
    orders.create_instance("o-1")
    with pytest.raises(FSMDefinitionError, match="'o-1' already exists"):
        orders.create_instance("o-1")


def test_state_machine_exposes_its_definition_for_more_instances(runtime):
    sm = StateMachine("a", name="m", runtime=runtime)
    sm.add_transition("a", "b", "go")
    other = sm.definition.create_instance("second")
    other.trigger("go")
    assert other.current_state == "b"
    assert sm.current_state == "a"
    assert set(sm.definition.instances) == {sm.instance_id, "second"}


def test_every_instance_event_names_workflow_and_instance(orders, runtime):
    orders.create_instance("o-1").trigger("pay")
    events = [e for e in runtime.bus.event_store if e.type.startswith("fsm.")]
    assert [e.type for e in events] == ["fsm.instance_created", "fsm.transitioned"]
    assert all(e.workflow == "orders" and e.data["instance"] == "o-1" for e in events)


def test_registry_fires_by_instance_id(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    registry.create_instance("orders", "o-1")
    assert registry.fire("o-1", "pay") is True
    assert registry.get("o-1").current_state == "paid"


def test_registry_needs_the_workflow_when_an_id_is_shared(orders, runtime):
    refunds = MachineDefinition("open", name="refunds", runtime=runtime)
    refunds.add_transition("open", "closed", "close")
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    registry.register(refunds)
    orders.create_instance("x")
    refunds.create_instance("x")
    with pytest.raises(InstanceNotFound, match="name the workflow"):
        registry.fire("x", "pay")
    assert registry.fire("x", "close", workflow="refunds") is True


def test_registry_reports_an_unknown_instance(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    with pytest.raises(InstanceNotFound, match="'nope'"):
        registry.fire("nope", "pay")


def test_registry_lists_instances_by_workflow_then_id(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    orders.create_instance("b")
    orders.create_instance("a")
    assert [i.instance_id for i in registry.instances()] == ["a", "b"]


def test_reregistered_definition_keeps_running_instances_reachable(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    old = orders.create_instance("o-1")
    newer = MachineDefinition("new", name="orders", runtime=runtime)
    newer.add_transition("new", "cancelled", "cancel")
    registry.register(newer)
    assert registry.get("o-1") is old
    assert registry.fire("o-1", "pay") is True
    fresh = registry.create_instance("orders", "o-2")
    assert fresh.definition is newer


def test_registry_finds_definitions_the_loader_registered(runtime):
    sm = StateMachine("a", name="loaded", runtime=runtime)
    sm.add_transition("a", "b", "go")
    runtime.definitions.register("loaded", sm)
    registry = InstanceRegistry(runtime)
    registry.create_instance("loaded", "i-9")
    assert registry.fire("i-9", "go", workflow="loaded") is True


def test_restore_brings_an_instance_back_in_its_state(orders, runtime, fake_clock):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    restored = registry.restore("orders", "o-7", "paid", {"total": 5}, ["new", "paid"])
    assert restored.current_state == "paid"
    assert restored.context == {"total": 5}
    assert restored.history == ["new", "paid"]
    assert registry.fire("o-7", "ship") is True
    kinds = [e.type for e in runtime.bus.event_store if e.data.get("instance") == "o-7"]
    assert kinds == ["fsm.instance_restored", "fsm.transitioned"]


def test_restore_accepts_transition_records_as_history(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    records = [{"from": "new", "event": "pay", "to": "paid", "time": 100.0}]
    restored = registry.restore("orders", "o-8", "paid", None, records)
    assert restored.history == ["new", "paid"]
    assert restored.transitions_log == [TransitionRecord("new", "pay", "paid", 100.0)]


def test_restore_refuses_an_unknown_state(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    with pytest.raises(FSMDefinitionError, match="unknown state 'lost'"):
        registry.restore("orders", "o-9", "lost", None, [])
    assert "o-9" not in orders.instances


def test_restore_overwrites_an_existing_instance(orders, runtime):
    registry = InstanceRegistry(runtime)
    registry.register(orders)
    instance = orders.create_instance("o-1")
    assert registry.restore("orders", "o-1", "paid", {}, ["new", "paid"]) is instance
    assert instance.current_state == "paid"


def test_snapshot_is_a_plain_dict_of_the_instance(orders):
    instance = orders.create_instance("o-1", context={"n": 1})
    instance.trigger("pay")
    snap = instance.snapshot()
    assert snap["workflow"] == "orders" and snap["instance"] == "o-1"
    assert snap["state"] == "paid" and snap["history"] == ["new", "paid"]
    assert snap["context"] == {"n": 1} and snap["final"] is False


def test_only_the_newest_finished_instances_are_kept(runtime):
    definition = MachineDefinition("new", name="d", runtime=runtime, final_states=["done"], keep_finished=2)
    definition.add_transition("new", "done", "finish")
    for n in range(4):
        definition.create_instance(f"i{n}").trigger("finish")
    running = definition.create_instance("live")
    assert set(definition.instances) == {"i2", "i3", "live"}
    assert running.current_state == "new"
