"""The state-machines view state: instances, time in state, options, history."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.fsm import CAN_FIRE, GUARDED, REFUSED, FsmView

T0 = 1_700_000_000.0

SPEC = {
    "initial": "idle",
    "states": ["idle", "building", "testing", "staging", "production", "rollback"],
    "final": ["production"],
    "transitions": [
        {"from": "idle", "to": "building", "event": "start", "guard": None},
        {"from": "building", "to": "testing", "event": "build_complete", "guard": None},
        {"from": "staging", "to": "production", "event": "promote", "guard": "can_deploy"},
        {"from": "*", "to": "rollback", "event": "rollback", "guard": None},
    ],
}


def loaded(ts: float = T0) -> Event:
    return Event("workflow.loaded", {"name": "deploy", "kind": "state_machine", "spec": SPEC}, ts=ts)


def fsm(kind: str, ts: float, **data) -> Event:
    return Event(kind, data, workflow="deploy", ts=ts)


def test_instance_created_appears_in_its_initial_state():
    view = FsmView(FakeClock(T0))
    assert view.apply([loaded(), fsm("fsm.instance_created", T0, instance="a", state="idle")])
    (row,) = view.rows()
    assert (row.machine, row.instance, row.state) == ("deploy", "a", "idle")


def test_transition_moves_state_and_restarts_time_in_state():
    clock = FakeClock(T0)
    view = FsmView(clock)
    view.apply([fsm("fsm.instance_created", T0, instance="a", state="idle")])
    view.apply([fsm("fsm.transitioned", T0 + 5, instance="a", **{"from": "idle", "to": "building", "event": "start"})])
    clock.advance(12)
    inst = view.rows()[0]
    assert inst.state == "building"
    assert view.time_in_state(inst) == 7


def test_history_lists_each_step_with_its_time():
    view = FsmView(FakeClock(T0))
    view.apply([
        fsm("fsm.instance_created", T0, instance="a", state="idle"),
        fsm("fsm.transitioned", T0 + 1, instance="a", **{"from": "idle", "to": "building", "event": "start"}),
    ])
    history = view.rows()[0].history
    assert [(h.time, h.source, h.event, h.target) for h in history] == [
        (T0, None, None, "idle"),
        (T0 + 1, "idle", "start", "building"),
    ]


def test_unguarded_event_from_current_state_can_fire_and_others_say_why_not():
    view = FsmView(FakeClock(T0))
    view.apply([loaded(), fsm("fsm.instance_created", T0, instance="a", state="idle")])
    options = {o.event: o for o in view.options(view.rows()[0])}
    assert options["start"].status == CAN_FIRE
    assert options["rollback"].status == CAN_FIRE
    assert options["promote"].status == "no transition from idle"


def test_guarded_event_is_marked_guarded_until_the_engine_reports_a_refusal():
    view = FsmView(FakeClock(T0))
    view.apply([loaded(), fsm("fsm.instance_created", T0, instance="a", state="staging")])
    inst = view.rows()[0]
    assert {o.event: o.status for o in view.options(inst)}["promote"] == GUARDED
    view.apply([fsm("fsm.blocked", T0 + 1, instance="a", event="promote", guard="can_deploy", **{"from": "staging"})])
    option = {o.event: o for o in view.options(inst)}["promote"]
    assert option.status == REFUSED
    assert view.refusing_guard(inst, option) == "can_deploy"


def test_transition_clears_refusals_of_the_previous_state():
    view = FsmView(FakeClock(T0))
    view.apply([
        loaded(),
        fsm("fsm.instance_created", T0, instance="a", state="staging"),
        fsm("fsm.blocked", T0 + 1, instance="a", event="promote", guard="can_deploy"),
        fsm("fsm.transitioned", T0 + 2, instance="a", **{"from": "staging", "to": "rollback", "event": "rollback"}),
    ])
    assert view.rows()[0].refused == {}


def test_engine_supplied_blocked_map_overrides_the_spec():
    view = FsmView(FakeClock(T0))
    view.apply([loaded(), fsm("fsm.instance_created", T0, instance="a", state="staging",
                              available=["rollback"], blocked={"promote": "can_deploy"})])
    inst = view.rows()[0]
    assert {o.event: o.status for o in view.options(inst)}["promote"] == REFUSED


def test_action_failure_keeps_state_and_records_the_error():
    view = FsmView(FakeClock(T0))
    view.apply([
        fsm("fsm.instance_created", T0, instance="a", state="idle"),
        fsm("fsm.action_failed", T0 + 1, instance="a", event="start", error_type="OSError", error="disk"),
    ])
    inst = view.rows()[0]
    assert inst.state == "idle"
    assert inst.last_error == "OSError: disk"
    assert "action failed" in inst.history[-1].note


def test_final_state_is_recognised_from_the_spec():
    view = FsmView(FakeClock(T0))
    view.apply([loaded(), fsm("fsm.instance_created", T0, instance="a", state="production")])
    assert view.is_final(view.rows()[0])


def test_states_fall_back_to_those_seen_without_a_spec():
    view = FsmView(FakeClock(T0))
    view.apply([
        fsm("fsm.instance_created", T0, instance="a", state="idle"),
        fsm("fsm.transitioned", T0 + 1, instance="a", **{"from": "idle", "to": "busy", "event": "go"}),
    ])
    assert view.states("deploy") == ["idle", "busy"]


def test_unrelated_events_change_nothing():
    view = FsmView(FakeClock(T0))
    assert not view.apply([Event("task.started", {"task": "x"}, ts=T0)])
