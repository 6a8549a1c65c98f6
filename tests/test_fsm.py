"""StateMachine: the seed's API, its fixes, hooks, final states and events."""

from __future__ import annotations

import pytest

from engine import StateMachine
from engine.fsm.machine import (
    FSMDefinitionError,
    FSMValidationError,
    ReentrantTriggerError,
    TransitionNotFound,
    TransitionRecord,
)


def events_of(runtime, prefix="fsm."):
    return [e for e in runtime.bus.event_store if e.type.startswith(prefix)]


def test_seed_deployment_pipeline_example_runs_unchanged(capsys):
    # The seed's usage example, verbatim.
    def can_deploy(ctx):
        return ctx.get("tests_passed") and ctx.get("approved")

    def deploy_to_staging(ctx):
        print("Deploying to staging...")
        ctx["staging_url"] = "https://staging.example.com"

    def deploy_to_production(ctx):
        print("Deploying to production...")
        ctx["production_url"] = "https://example.com"

    def rollback(ctx):
        print("Rolling back deployment...")
        ctx["rolled_back"] = True

    # Create state machine
    pipeline = StateMachine("idle", context={})

    # Define transitions
    pipeline.add_transition("idle", "building", "start")
    pipeline.add_transition("building", "testing", "build_complete")
    pipeline.add_transition("testing", "awaiting_approval", "tests_passed")
    pipeline.add_transition("testing", "failed", "tests_failed")
    pipeline.add_transition("awaiting_approval", "staging", "approved", action=deploy_to_staging)
    pipeline.add_transition("staging", "production", "promote", guard=can_deploy, action=deploy_to_production)
    pipeline.add_transition("*", "rollback", "rollback", action=rollback)

    # Execute workflow
    pipeline.trigger("start")
    pipeline.trigger("build_complete")
    pipeline.context["tests_passed"] = True
    pipeline.trigger("tests_passed")
    pipeline.context["approved"] = True
    pipeline.trigger("approved")
    pipeline.trigger("promote")

    print(f"Final state: {pipeline.current_state}")
    print(f"History: {' -> '.join(pipeline.history)}")

    out = capsys.readouterr().out
    assert "Final state: production" in out
    assert "History: idle -> building -> testing -> awaiting_approval -> staging -> production" in out
    assert pipeline.context["production_url"] == "https://example.com"


@pytest.fixture
def machine(runtime):
    sm = StateMachine("idle", context={}, name="deploy", runtime=runtime)
    sm.add_transition("idle", "building", "start")
    sm.add_transition("building", "done", "finish", guard=lambda ctx: ctx.get("ok"))
    return sm


def test_trigger_returns_true_when_the_state_changes(machine):
    assert machine.trigger("start") is True
    assert machine.current_state == "building"


def test_trigger_returns_false_when_every_guard_refuses(machine):
    machine.trigger("start")
    assert machine.trigger("finish") is False
    assert machine.current_state == "building"


def test_trigger_without_transition_raises_value_error_naming_event_and_state(machine):
    with pytest.raises(ValueError, match="No transition for event 'finish' from state 'idle'") as info:
        machine.trigger("finish")
    assert isinstance(info.value, TransitionNotFound)
    assert (info.value.state, info.value.event) == ("idle", "finish")


def test_wildcard_applies_to_states_added_after_it(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("*", "aborted", "abort")
    sm.add_transition("a", "b", "next")
    sm.add_transition("b", "c", "next")
    sm.trigger("next")
    sm.trigger("next")
    assert sm.trigger("abort") is True
    assert sm.current_state == "aborted"


def test_explicit_transition_wins_over_wildcard(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("*", "anywhere", "go")
    sm.add_transition("a", "special", "go")
    sm.trigger("go")
    assert sm.current_state == "special"


def test_wildcard_is_tried_when_the_explicit_guard_refuses(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "special", "go", guard=lambda ctx: False)
    sm.add_transition("*", "anywhere", "go")
    sm.trigger("go")
    assert sm.current_state == "anywhere"


def test_first_passing_guard_in_added_order_fires(runtime):
    sm = StateMachine("a", context={"n": 2}, runtime=runtime)
    sm.add_transition("a", "small", "size", guard=lambda ctx: ctx["n"] < 1)
    sm.add_transition("a", "medium", "size", guard=lambda ctx: ctx["n"] < 5)
    sm.add_transition("a", "large", "size")
    sm.trigger("size")
    assert sm.current_state == "medium"


def test_action_that_raises_leaves_the_source_state_and_reraises(runtime):
    def explode(ctx):
        raise RuntimeError("deploy failed")

    sm = StateMachine("staging", name="deploy", runtime=runtime)
    sm.add_transition("staging", "production", "promote", action=explode)
    with pytest.raises(RuntimeError, match="deploy failed"):
        sm.trigger("promote")
    assert sm.current_state == "staging"
    assert sm.history == ["staging"]
    failed = [e for e in events_of(runtime) if e.type == "fsm.action_failed"]
    assert len(failed) == 1
    assert failed[0].data["stage"] == "action"
    assert failed[0].data["callback"] == "explode"
    assert failed[0].data["error_type"] == "RuntimeError"
    assert failed[0].data["from"] == "staging" and failed[0].data["to"] == "production"


def test_guard_that_raises_is_reported_and_reraised(runtime):
    def broken_guard(ctx):
        raise KeyError("missing")

    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go", guard=broken_guard)
    with pytest.raises(KeyError):
        sm.trigger("go")
    assert sm.current_state == "a"
    failed = [e for e in events_of(runtime) if e.type == "fsm.action_failed"]
    assert failed[0].data["stage"] == "guard"
    assert failed[0].data["callback"] == "broken_guard"


def test_hooks_run_exit_then_action_then_enter(runtime):
    calls = []
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go", action=lambda ctx: calls.append("action"))
    sm.on_exit("a", lambda ctx: calls.append("exit a"))

    @sm.on_enter("b")
    def entered(ctx):
        calls.append("enter b")

    sm.trigger("go")
    assert calls == ["exit a", "action", "enter b"]


def test_enter_hook_that_raises_keeps_the_source_state(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    sm.on_enter("b", lambda ctx: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sm.trigger("go")
    assert sm.current_state == "a"
    assert [e.data["stage"] for e in events_of(runtime) if e.type == "fsm.action_failed"] == ["on_enter"]


def test_hook_added_after_a_trigger_still_runs(runtime):
    calls = []
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    sm.add_transition("b", "a", "back")
    sm.trigger("go")
    sm.trigger("back")
    sm.on_enter("b", lambda ctx: calls.append("b"))
    sm.trigger("go")
    assert calls == ["b"]


def test_final_state_accepts_no_events_not_even_wildcards(runtime):
    sm = StateMachine("a", runtime=runtime, final_states=["done"])
    sm.add_transition("a", "done", "finish")
    sm.add_transition("*", "a", "restart")
    sm.trigger("finish")
    assert sm.is_final
    with pytest.raises(TransitionNotFound):
        sm.trigger("restart")
    assert sm.why_not("restart") == "state 'done' is final"


def test_transition_out_of_a_final_state_is_refused(runtime):
    sm = StateMachine("a", runtime=runtime, final_states=["done"])
    with pytest.raises(FSMDefinitionError, match="'done' is final"):
        sm.add_transition("done", "a", "again")


def test_transitions_log_records_from_event_to_and_clock_time(runtime, fake_clock):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    fake_clock.advance(5)
    sm.trigger("go")
    assert sm.transitions_log == [TransitionRecord("a", "go", "b", fake_clock.time())]
    assert sm.history == ["a", "b"]


def test_blocked_by_names_the_refusing_guard(machine):
    def tests_green(ctx):
        return False

    machine.add_transition("idle", "skipped", "skip", guard=tests_green)
    assert machine.blocked_by("skip") == ["tests_green"]
    assert machine.blocked_by("start") == []


def test_why_not_explains_guard_refusal_and_missing_transition(machine):
    assert machine.why_not("start") is None
    assert machine.why_not("finish") == "no transition for event 'finish' from state 'idle'"
    machine.trigger("start")
    assert machine.why_not("finish") == "guard <lambda> refused 'finish' in state 'building'"


def test_blocked_event_carries_the_guard_name(runtime):
    def approved(ctx):
        return False

    sm = StateMachine("a", name="m", runtime=runtime)
    sm.add_transition("a", "b", "go", guard=approved)
    sm.trigger("go")
    blocked = [e for e in events_of(runtime) if e.type == "fsm.blocked"]
    assert blocked[0].data["guard"] == "approved"
    assert blocked[0].data["guards"] == ["approved"]
    assert blocked[0].workflow == "m"


def test_rejected_event_is_published_before_the_error(machine, runtime):
    with pytest.raises(TransitionNotFound):
        machine.trigger("nope")
    rejected = [e for e in events_of(runtime) if e.type == "fsm.rejected"]
    assert rejected[0].data["event"] == "nope" and rejected[0].data["from"] == "idle"


def test_transitioned_event_carries_correlation_timing_and_context(runtime, fake_clock):
    sm = StateMachine("a", context={"k": [1, 2]}, name="m", runtime=runtime, instance_id="i-1")
    sm.add_transition("a", "b", "go")
    fake_clock.advance(3)
    sm.trigger("go")
    (event,) = [e for e in events_of(runtime) if e.type == "fsm.transitioned"]
    assert event.workflow == "m"
    assert event.data["instance"] == "i-1"
    assert (event.data["from"], event.data["event"], event.data["to"]) == ("a", "go", "b")
    assert event.data["guard"] is None
    assert event.data["time_in_state"] == 3
    assert event.data["time"] == fake_clock.time()
    assert event.data["context"] == {"k": [1, 2]}


def test_transitioned_event_context_is_a_snapshot(runtime):
    sm = StateMachine("a", context={"n": 1}, runtime=runtime)
    sm.add_transition("a", "b", "go")
    sm.add_transition("b", "a", "back")
    sm.trigger("go")
    sm.context["n"] = 2
    sm.trigger("back")
    contexts = [e.data["context"] for e in events_of(runtime) if e.type == "fsm.transitioned"]
    assert contexts == [{"n": 1}, {"n": 2}]


def test_context_that_is_not_json_friendly_is_left_out(runtime):
    sm = StateMachine("a", context={"conn": object()}, runtime=runtime)
    sm.add_transition("a", "b", "go")
    sm.trigger("go")
    (event,) = [e for e in events_of(runtime) if e.type == "fsm.transitioned"]
    assert "context" not in event.data


def test_instance_created_is_published_on_construction(runtime):
    StateMachine("a", name="m", runtime=runtime, instance_id="x")
    (event,) = events_of(runtime)
    assert event.type == "fsm.instance_created"
    assert event.data["instance"] == "x" and event.data["to"] == "a"


def test_action_triggering_its_own_machine_is_refused(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go", action=lambda ctx: sm.trigger("go"))
    with pytest.raises(ReentrantTriggerError):
        sm.trigger("go")
    assert sm.current_state == "a"


def test_subscriber_may_trigger_the_machine_again(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    sm.add_transition("b", "c", "go")

    def chain(event):
        if event.data["to"] == "b":
            sm.trigger("go")

    runtime.bus.subscribe("fsm.transitioned", chain)
    sm.trigger("go")
    assert sm.history == ["a", "b", "c"]


def test_can_trigger_and_available_events_evaluate_guards(machine):
    machine.add_transition("*", "idle", "reset")
    assert machine.can_trigger("start")
    assert not machine.can_trigger("finish")
    assert machine.get_available_events() == ["start", "reset"]
    machine.trigger("start")
    assert machine.get_available_events() == ["reset"]
    machine.context["ok"] = True
    assert machine.get_available_events() == ["finish", "reset"]


def test_reset_returns_to_initial_and_clears_context_and_history(machine, runtime):
    machine.trigger("start")
    machine.context["x"] = 1
    machine.reset()
    assert machine.current_state == "idle"
    assert machine.history == ["idle"]
    assert machine.transitions_log == []
    assert machine.context == {}
    assert events_of(runtime)[-1].type == "fsm.reset"


def test_validate_reports_unreachable_and_dead_end_states(runtime):
    sm = StateMachine("a", runtime=runtime, final_states=["done"])
    sm.add_transition("a", "b", "go")
    sm.add_transition("b", "done", "finish")
    sm.add_transition("island", "done", "finish")
    sm.add_transition("a", "stuck", "wedge")
    with pytest.raises(FSMValidationError) as info:
        sm.validate()
    kinds = {(p.kind, p.state) for p in info.value.problems}
    assert kinds == {("unreachable", "island"), ("dead_end", "stuck")}
    assert isinstance(info.value, ValueError)


def test_validate_returns_no_problems_for_a_sound_machine(runtime):
    sm = StateMachine("a", runtime=runtime, final_states=["done"])
    sm.add_transition("a", "done", "finish")
    assert sm.validate() == []


def test_validate_without_raising_returns_the_problems(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    assert [p.kind for p in sm.validate(raise_errors=False)] == ["dead_end"]


def test_describe_lists_states_final_and_expanded_transitions(runtime):
    def approved(ctx):
        return True

    sm = StateMachine("a", runtime=runtime, final_states=["done"])
    sm.add_transition("a", "done", "finish", guard=approved)
    sm.add_transition("*", "a", "restart")
    assert sm.describe() == {
        "initial": "a",
        "states": ["a", "done"],
        "final": ["done"],
        "transitions": [
            {"from": "a", "to": "done", "event": "finish", "guard": "approved"},
            {"from": "a", "to": "a", "event": "restart", "guard": None, "wildcard": True},
        ],
    }


def test_to_mermaid_renders_a_state_diagram(runtime):
    def approved(ctx):
        return True

    sm = StateMachine("idle", runtime=runtime, final_states=["done"])
    sm.add_transition("idle", "in review", "submit")
    sm.add_transition("in review", "done", "accept", guard=approved)
    assert sm.to_mermaid() == (
        "stateDiagram-v2\n"
        '    state "in review" as s2\n'
        "    [*] --> idle\n"
        "    idle --> s2 : submit\n"
        "    s2 --> done : accept [approved]\n"
        "    done --> [*]\n"
    )


@pytest.mark.parametrize("bad", ["", None, 3])
def test_bad_state_names_are_refused_with_the_field_named(runtime, bad):
    sm = StateMachine("a", runtime=runtime)
    with pytest.raises(FSMDefinitionError, match="to_state"):
        sm.add_transition("a", bad, "go")


def test_uncallable_guard_is_refused(runtime):
    sm = StateMachine("a", runtime=runtime)
    with pytest.raises(FSMDefinitionError, match="guard is not callable"):
        sm.add_transition("a", "b", "go", guard="yes")


def test_subscriber_of_a_blocked_event_may_trigger_the_machine(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go", guard=lambda ctx: False)
    sm.add_transition("a", "fallback", "give_up")
    runtime.bus.subscribe("fsm.blocked", lambda event: sm.trigger("give_up"))
    assert sm.trigger("go") is False
    assert sm.current_state == "fallback"


def test_state_with_transitions_out_cannot_be_made_final(runtime):
    sm = StateMachine("a", runtime=runtime)
    sm.add_transition("a", "b", "go")
    with pytest.raises(FSMDefinitionError, match="'a' has transitions out"):
        sm.mark_final("a")
