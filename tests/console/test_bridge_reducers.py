"""The view-state reducers, without an app: dag, events log, workflows, vitals."""

from __future__ import annotations

import pytest

from engine import Event, FakeClock

from console.state import ago, duration
from console.state.dag import MAX_RUNS, DagState
from console.state.events_log import EventsLogState, FilterError, clock_text, summarise
from console.state.vitals import VitalsState
from console.state.workflows import WorkflowsState
from tests.console.conftest import ETL_TASKS, T0, Recorder, recorded_session, workflow_loaded


def _dag(events: list[Event]) -> DagState:
    state = DagState(FakeClock(T0))
    state.apply(events)
    return state


# -- dag -------------------------------------------------------------------


def test_dag_spec_comes_from_workflow_loaded() -> None:
    rec = Recorder()
    workflow_loaded(rec, "etl", "dag", {"tasks": ETL_TASKS})
    assert _dag(rec.events).graph("etl") == ETL_TASKS


def test_non_dag_workflows_are_not_drawn() -> None:
    rec = Recorder()
    workflow_loaded(rec, "m", "state_machine", {"states": []})
    assert not _dag(rec.events).is_dag("m")


def test_task_states_follow_their_latest_event() -> None:
    state = _dag(recorded_session())
    run = state.latest_run("etl")
    assert run is not None and run.run_id == "run-0002"
    statuses = {task: run.task(task).status for task in ETL_TASKS}
    assert statuses == {
        "extract": "completed",
        "validate": "failed",
        "transform": "skipped",
        "enrich": "running",
        "load": "pending",
        "report": "pending",
        "notify": "completed",
    }


def test_failed_task_keeps_error_traceback_and_attempts() -> None:
    view = _dag(recorded_session()).latest_run("etl").task("validate")
    assert (view.attempts, view.error_type, view.error) == (3, "ValueError", "row 17: amount is negative")
    assert view.traceback.endswith("ValueError: row 17: amount is negative")


def test_retrying_task_shows_retrying() -> None:
    rec = Recorder()
    run = {"workflow": "w", "run_id": "r"}
    rec.add("run.started", {"tasks": {"t": []}}, **run)
    rec.add("task.retrying", {"task": "t", "attempt": 1, "error_type": "E", "error": "x"}, **run)
    assert _dag(rec.events).latest_run("w").task("t").status == "retrying"


def test_run_end_sets_run_status() -> None:
    runs = _dag(recorded_session()).runs_of("etl")
    assert [r.status for r in runs] == ["completed", "running"]


def test_task_event_of_an_unseen_run_creates_it_from_the_spec() -> None:
    rec = Recorder()
    workflow_loaded(rec, "etl", "dag", {"tasks": ETL_TASKS})
    rec.add("task.started", {"task": "extract", "attempt": 1}, workflow="etl", run_id="late")
    run = _dag(rec.events).latest_run("etl")
    assert run.run_id == "late" and run.tasks == ETL_TASKS


def test_only_the_last_runs_are_kept() -> None:
    rec = Recorder()
    for i in range(MAX_RUNS + 5):
        rec.add("run.started", {"tasks": {"t": []}}, workflow="w", run_id=f"r{i}")
    runs = _dag(rec.events).runs_of("w")
    assert len(runs) == MAX_RUNS and runs[0].run_id == "r5"


def test_a_dead_letter_retry_shows_as_a_run_that_ended() -> None:
    from engine import DAGWorkflow, Runtime, WorkflowError

    runtime = Runtime(clock=FakeClock(T0))
    broken = {"on": True}

    def load(extract):
        if broken["on"]:
            raise RuntimeError("warehouse down")
        return 1

    dag = DAGWorkflow("etl", runtime=runtime)
    dag.add_task("extract", lambda: 0)
    dag.add_task("load", load, depends_on=["extract"])
    dag.add_task("report", lambda load: load, depends_on=["load"])
    with pytest.raises(WorkflowError):
        dag.start().wait(5)
    events: list[Event] = []
    runtime.bus.subscribe("*", events.append)
    broken["on"] = False
    runtime.dlq.retry(runtime.dlq.list()[0].id)
    state = _dag(events)
    run = state.latest_run("etl")
    assert run.status == "completed"
    assert {task: view.status for task, view in run.states.items()} == {"load": "completed"}
    assert state.graph("etl", run) == {"load": []}


def test_apply_reports_no_change_for_unrelated_events() -> None:
    assert DagState(FakeClock()).apply([Event("metric.recorded", {})]) is False


# -- events log ------------------------------------------------------------


def _log(events: list[Event], capacity: int = 100) -> EventsLogState:
    state = EventsLogState(FakeClock(T0), capacity=capacity)
    state.apply(events)
    return state


def test_log_keeps_every_event_in_order() -> None:
    events = recorded_session()
    assert [e for e in _log(events, 1000).rows] == events


def test_log_is_capped_dropping_the_oldest() -> None:
    events = recorded_session()
    log = _log(events, capacity=5)
    assert [e for e in log.rows] == events[-5:]


def test_filter_is_a_case_insensitive_regex_over_the_line() -> None:
    log = _log(recorded_session(), 1000)
    log.set_filter(r"task\.(FAILED|skipped)")
    assert [e.type for e in log.rows] == ["task.failed", "task.skipped"]


def test_filter_applies_to_new_events_too() -> None:
    log = _log([], 1000)
    log.set_filter("failed")
    log.apply([Event("task.failed", {}), Event("task.started", {})])
    assert [e.type for e in log.rows] == ["task.failed"]


def test_bad_filter_raises_and_keeps_the_old_one() -> None:
    log = _log(recorded_session(), 1000)
    log.set_filter("run")
    with pytest.raises(FilterError):
        log.set_filter("(unclosed")
    assert log.filter_text == "run"


def test_empty_filter_shows_everything() -> None:
    log = _log(recorded_session(), 1000)
    log.set_filter("run.started")
    log.set_filter("")
    assert len(log.rows) == len(log.events)


def test_paused_log_holds_new_events_until_resumed() -> None:
    log = _log([Event("first", {})])
    log.pause()
    log.apply([Event("second", {})])
    assert [e.type for e in log.rows] == ["first"]
    assert len(log.held) == 1
    log.resume()
    assert [e.type for e in log.rows] == ["first", "second"]


def test_log_line_shows_type_workflow_run_and_data() -> None:
    log = _log([Event("task.failed", {"task": "t", "error": "boom"}, workflow="w", run_id="r", ts=T0)])
    event = log.rows[0]
    assert summarise(event) == "task.failed  w  r  task=t  error=boom"
    assert clock_text(event.ts) == "22:13:20.000"


# -- workflows -------------------------------------------------------------


def test_workflows_list_kind_status_and_load_errors() -> None:
    state = WorkflowsState(FakeClock(T0 + 15))
    state.apply(recorded_session())
    assert list(state.workflows) == ["etl", "deploy", "broken"]
    assert state.workflows["etl"].status == "running"
    assert state.workflows["deploy"].status == "idle"
    broken = state.workflows["broken"]
    assert broken.status == "load error" and broken.load_error.line == 7


def test_last_run_age_uses_the_injected_clock() -> None:
    state = WorkflowsState(FakeClock(T0 + 15))
    state.apply(recorded_session())
    assert state.last_run_ago(state.workflows["etl"]) == 5.0


def test_reload_and_load_failure_become_notices() -> None:
    state = WorkflowsState(FakeClock(T0))
    rec = Recorder()
    rec.add("workflow.reloaded", {"name": "etl", "kind": "dag", "changes": {"added": ["x"]}})
    rec.add(
        "workflow.load_failed",
        {"file": "f.py", "line": 3, "message": "boom", "traceback": "", "last_good_active": True, "name": "etl"},
    )
    state.apply(rec.events)
    notices = state.take_notices()
    assert [n.severity for n in notices] == ["information", "error"]
    assert notices[0].message == "added: x"
    assert notices[1].title == "Load failed: f.py:3"
    assert "last good version still active" in notices[1].message
    assert state.take_notices() == []


def test_a_good_load_clears_the_load_error() -> None:
    state = WorkflowsState(FakeClock(T0))
    rec = Recorder()
    rec.add("workflow.load_failed", {"file": "f.py", "line": 1, "message": "m", "name": "w"})
    workflow_loaded(rec, "w", "dag", {"tasks": {}})
    state.apply(rec.events)
    assert state.workflows["w"].load_error is None


def test_counts_loaded_workflows_and_active_runs() -> None:
    state = WorkflowsState(FakeClock(T0))
    state.apply(recorded_session())
    assert (state.loaded_count, state.active_runs) == (2, 1)


# -- vitals ----------------------------------------------------------------


def test_events_per_second_counts_the_last_complete_second() -> None:
    clock = FakeClock(T0)
    vitals = VitalsState(clock)
    vitals.apply([Event("x")] * 7)
    assert vitals.events_per_second == 0
    clock.advance(1)
    vitals.apply([])
    assert vitals.events_per_second == 7
    clock.advance(1)
    vitals.tick()
    assert vitals.events_per_second == 0


def test_dead_letters_waiting_follow_dlq_events() -> None:
    vitals = VitalsState(FakeClock(T0))
    vitals.apply([
        Event("dlq.added", {"id": "a", "status": "dead"}),
        Event("dlq.added", {"id": "b", "status": "dead"}),
        Event("dlq.resolved", {"id": "a", "status": "resolved"}),
    ])
    assert vitals.dead_letters == 1


def test_breakers_open_follow_breaker_events() -> None:
    vitals = VitalsState(FakeClock(T0))
    vitals.apply([
        Event("breaker.opened", {"breaker": "pay"}),
        Event("breaker.opened", {"breaker": "ship"}),
        Event("breaker.half_opened", {"breaker": "pay"}),
        Event("breaker.forced", {"breaker": "mail", "state": "open"}),
    ])
    assert vitals.breakers_open == 2


# -- formatting ------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [(4.9, "4s"), (125, "2m"), (7300, "2h"), (200000, "2d"), (-3, "0s")])
def test_ago_is_short(seconds: float, text: str) -> None:
    assert ago(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(None, "-"), (0.25, "250ms"), (2.314, "2.31s"), (245, "4m05s")])
def test_duration_is_short(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_failed_file_with_no_active_version_is_listed_by_file_name() -> None:
    state = WorkflowsState(FakeClock(T0))
    state.apply([Event("workflow.load_failed", {"file": "/x/etl_dag.py", "line": 3, "message": "m", "active": []})])
    assert list(state.workflows) == ["etl_dag.py"]


def test_load_failure_marks_the_workflows_still_served_from_the_file() -> None:
    state = WorkflowsState(FakeClock(T0))
    rec = Recorder()
    workflow_loaded(rec, "etl", "dag", {"tasks": {}})
    rec.add("workflow.load_failed", {"file": "sample_workflows/etl.py", "line": 3, "message": "m", "last_good_active": True, "active": ["etl"]})
    state.apply(rec.events)
    assert list(state.workflows) == ["etl"]
    assert state.workflows["etl"].load_error.last_good_active


def test_a_file_that_loads_again_drops_its_failure_entry() -> None:
    state = WorkflowsState(FakeClock(T0))
    rec = Recorder()
    rec.add("workflow.load_failed", {"file": "sample_workflows/etl.py", "line": 3, "message": "m", "active": []})
    workflow_loaded(rec, "etl", "dag", {"tasks": {}})
    state.apply(rec.events)
    assert list(state.workflows) == ["etl"]
