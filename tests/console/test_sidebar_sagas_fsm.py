"""The sidebar follows sagas and state machines as it follows DAGs; counts agree with their nouns."""

from __future__ import annotations

from engine import FakeClock

from console import drain
from console.app import FlowConsoleApp
from console.state import count
from console.state.workflows import WorkflowsState

from .conftest import T0, Recorder, quiet, workflow_loaded

SAGA_SPEC = {"steps": ["reserve", "charge"]}
FSM_SPEC = {"initial": "idle", "states": ["idle", "open"], "final": [], "transitions": []}


def _saga_run(rec: Recorder, run_id: str, end: str, *, at: float) -> None:
    run = {"workflow": "checkout", "run_id": run_id}
    rec.add("saga.started", {"steps": ["reserve", "charge"], "status": "running"}, at=at, **run)
    rec.add("saga.step.started", {"step": "reserve", "index": 0, "status": "running"}, at=at + 0.1, **run)
    if end:
        rec.add(end, {"status": end.removeprefix("saga.")}, at=at + 1, **run)


def _fsm(rec: Recorder, kind: str, instance: str, *, at: float, **data: object) -> None:
    rec.add(kind, {"instance": instance, "from": "idle", "to": "open", "event": "open", **data}, at=at, workflow="door")


def _state(rec: Recorder) -> WorkflowsState:
    state = WorkflowsState(FakeClock(T0 + 20))
    state.apply(rec.events)
    return state


def _loaded() -> Recorder:
    rec = Recorder()
    workflow_loaded(rec, "checkout", "saga", SAGA_SPEC)
    workflow_loaded(rec, "door", "state_machine", FSM_SPEC)
    return rec


def test_a_saga_run_in_progress_shows_running() -> None:
    rec = _loaded()
    _saga_run(rec, "s-1", "", at=1)
    assert _state(rec).workflows["checkout"].status == "running"


def test_a_finished_saga_run_shows_its_outcome_and_when() -> None:
    rec = _loaded()
    _saga_run(rec, "s-1", "saga.completed", at=1)
    _saga_run(rec, "s-2", "saga.compensation_failed", at=5)
    state = _state(rec)
    info = state.workflows["checkout"]
    assert info.status == "compensation failed"
    assert state.last_run_ago(info) == 14


def test_a_compensated_saga_shows_compensated() -> None:
    rec = _loaded()
    _saga_run(rec, "s-1", "saga.compensated", at=1)
    assert _state(rec).workflows["checkout"].status == "compensated"


def test_a_state_machine_shows_its_instance_count_after_transitions() -> None:
    rec = _loaded()
    _fsm(rec, "fsm.instance_created", "d-1", at=1)
    _fsm(rec, "fsm.transitioned", "d-1", at=2)
    _fsm(rec, "fsm.instance_created", "d-2", at=3)
    state = _state(rec)
    info = state.workflows["door"]
    assert info.status == "2 instances"
    assert state.last_run_ago(info) == 17


def test_a_state_machine_whose_last_action_failed_says_so() -> None:
    rec = _loaded()
    _fsm(rec, "fsm.instance_created", "d-1", at=1)
    _fsm(rec, "fsm.action_failed", "d-1", at=2, stage="action", error="boom")
    info = _state(rec).workflows["door"]
    assert (info.status, info.last_run_status) == ("1 instance", "failed")


async def test_the_sidebar_redraws_saga_and_machine_entries_after_runs() -> None:
    rec = _loaded()
    app = quiet(FlowConsoleApp(recorded_events=rec.events, clock=FakeClock(T0 + 20)))
    async with app.run_test(size=(120, 30)) as pilot:
        later = Recorder(start_seq=rec.seq)
        _saga_run(later, "s-1", "saga.completed", at=2)
        _fsm(later, "fsm.instance_created", "d-1", at=3)
        for event in later.events:
            app.bridge.on_event(event)
        # The next frame draws them.
        await pilot.pause(drain.FRAME_INTERVAL + 0.3)
        prompts = [str(app._sidebar.get_option_at_index(i).prompt) for i in range(app._sidebar.option_count)]
    assert "checkout\n  saga · completed · 17s ago" in prompts
    # Too long for one line of the sidebar: the age goes whole to the next.
    assert "door\n  state_machine · 1 instance\n  17s ago" in prompts


def test_counts_agree_with_their_nouns() -> None:
    assert count(1, "saga run") == "1 saga run"
    assert count(2, "saga run") == "2 saga runs"
    assert count(0, "instance") == "0 instances"
    assert f"{count(1, 'instance')} of {count(1, 'machine')}" == "1 instance of 1 machine"


def test_an_age_growing_a_digit_keeps_the_entry_as_many_lines_tall() -> None:
    from console.state.workflows import WorkflowInfo
    from console.widgets.workflow_list import WorkflowList

    clock = FakeClock(T0 + 9)
    state = WorkflowsState(clock)
    # Unmounted, the list lays out for 24 columns: "  dag! · failed" and " · 9s ago" make 24,
    # " · 10s ago" 25: judged by its own age, the entry would grow a line at 10 s.
    info = WorkflowInfo(name="etl", kind="dag!", last_run_status="failed", last_run_ts=T0, loaded=True)
    sidebar = WorkflowList(state)
    nine = sidebar._prompt(info, sidebar.palette()).plain
    clock.advance(1)
    ten = sidebar._prompt(info, sidebar.palette()).plain
    assert (nine, ten) == ("etl\n  dag! · failed\n  9s ago", "etl\n  dag! · failed\n  10s ago")


def test_an_entry_keeps_the_lines_of_the_widest_status_it_has_shown() -> None:
    from console.state.workflows import WorkflowInfo
    from console.widgets.workflow_list import WorkflowList

    state = WorkflowsState(FakeClock(T0 + 5))
    sidebar = WorkflowList(state)
    # Unmounted, the list lays out for 24 columns: "  dag · cancelled" leaves no room for
    # " · 5s ago", "  dag · failed" does; judged by its status alone, the entry would shrink.
    cancelled = WorkflowInfo(name="etl", kind="dag", last_run_status="cancelled", last_run_ts=T0, loaded=True)
    failed = WorkflowInfo(name="etl", kind="dag", last_run_status="failed", last_run_ts=T0, loaded=True)
    first = sidebar._prompt(cancelled, sidebar.palette()).plain
    then = sidebar._prompt(failed, sidebar.palette()).plain
    assert (first, then) == ("etl\n  dag · cancelled\n  5s ago", "etl\n  dag · failed\n  5s ago")


def test_a_status_too_long_to_follow_the_kind_gets_a_line_of_its_own() -> None:
    from console.state.workflows import WorkflowInfo
    from console.widgets.workflow_list import WorkflowList

    state = WorkflowsState(FakeClock(T0 + 3))
    sidebar = WorkflowList(state)
    instances = {f"door-{i}" for i in range(12)}
    info = WorkflowInfo(name="doors", kind="state_machine", instances=instances, last_run_ts=T0, loaded=True)
    # Wrapped by the list, "instances" would start the next line with no indent.
    assert sidebar._prompt(info, sidebar.palette()).plain == "doors\n  state_machine\n  12 instances · 3s ago"
