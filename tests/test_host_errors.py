"""The `Engine` says what is wrong: stopped, wrong kind, unknown run."""

from __future__ import annotations

import pytest

from engine import Engine, EngineStoppedError, UnknownRunError, WorkflowKindError

MACHINE = '''
from engine import StateMachine, workflow


@workflow(name="door")
def build():
    machine = StateMachine("closed", name="door")
    machine.add_transition("closed", "open", "open")
    machine.add_transition("open", "closed", "close")
    return machine
'''

DAG = '''
from engine import DAGWorkflow, workflow


@workflow(name="nightly")
def build():
    dag = DAGWorkflow("nightly")
    dag.add_task("work", lambda: 1)
    return dag
'''


@pytest.fixture
def engine(tmp_path):
    (tmp_path / "door.py").write_text(MACHINE)
    (tmp_path / "nightly.py").write_text(DAG)
    engine = Engine(tmp_path, watch=False, schedules=False, check_timeout=None)
    engine.start()
    yield engine
    engine.stop()


def test_a_stopped_engine_says_it_is_stopped_not_that_the_workflow_is_being_unloaded(engine):
    engine.stop()
    with pytest.raises(EngineStoppedError, match="the engine is stopped: workflow 'nightly' cannot start"):
        engine.start_run("nightly")


def test_firing_an_event_at_a_dag_says_it_is_a_dag_not_that_it_is_not_loaded(engine):
    with pytest.raises(WorkflowKindError, match="'nightly' is a dag, not a state_machine; state_machine workflows: door"):
        engine.fire("nightly", "i-1", "open")


def test_rerunning_a_state_machine_says_it_is_not_a_dag(engine):
    run_id = engine.start_run("nightly")
    engine.run_record(run_id).future.result(10)
    with pytest.raises(WorkflowKindError, match="'door' is a state_machine, not a dag; dag workflows: nightly"):
        engine.rerun_from("door", run_id, "work")


def test_an_unknown_run_id_is_a_flow_error_that_names_it(engine):
    with pytest.raises(UnknownRunError, match="no run 'r-404' started by this engine") as info:
        engine.run_record("r-404")
    assert isinstance(info.value, KeyError) and info.value.run_id == "r-404"
