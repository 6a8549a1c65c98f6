"""The Engine facade: loading, runs, versions, triggers, fire, stop."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from engine import Engine, Event, FakeClock, Runtime, UnknownWorkflowError
from engine.host.loader import MODULE_PREFIX

GATED_DAG = '''
import threading
from engine import current_runtime, workflow
from engine.dag import DAGWorkflow

VERSION = {version}


def gated():
    bus = current_runtime().bus
    opened = threading.Event()
    bus.subscribe("gate.open", lambda event: opened.set())
    bus.emit("gate.waiting", {{"version": VERSION}})
    opened.wait(10)
    return VERSION


@workflow(name="gated", description="version {version}")
def build():
    dag = DAGWorkflow("gated")
    dag.add_task("work", gated if VERSION == 1 else (lambda: VERSION))
    return dag
'''

MACHINE = '''
from engine import workflow
from engine.fsm import StateMachine


@workflow(name="door", tags=["demo"])
def build():
    machine = StateMachine("closed", name="door", final_states=["gone"])
    machine.add_transition("closed", "open", "open")
    machine.add_transition("open", "closed", "close")
    machine.add_transition("*", "gone", "remove")
    return machine
'''

SCHEDULED = '''
from engine import run_inputs, workflow
from engine.dag import DAGWorkflow


@workflow(name="ticker", trigger={"every": "5s"})
def ticker():
    dag = DAGWorkflow("ticker")
    dag.add_task("tick", lambda: "tick")
    return dag


@workflow(name="on_order", trigger={"on": "order.*"})
def on_order():
    dag = DAGWorkflow("on_order")
    dag.add_task("seen", lambda: run_inputs()["event"]["data"]["order_id"])
    return dag
'''


class Events:
    def __init__(self, bus, pattern="*"):
        self.items: list[Event] = []
        self.cond = threading.Condition()
        bus.subscribe(pattern, self._on)

    def _on(self, event):
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def of(self, kind):
        with self.cond:
            return [e for e in self.items if e.type == kind]

    def wait(self, kind, count=1, timeout=10.0):
        with self.cond:
            assert self.cond.wait_for(lambda: len([e for e in self.items if e.type == kind]) >= count, timeout), kind
            return [e for e in self.items if e.type == kind]


@pytest.fixture
def make_engine(tmp_path):
    engines = []

    def make(files: dict[str, str], **options):
        for name, text in files.items():
            (tmp_path / name).write_text(text)
        options.setdefault("watch", False)
        options.setdefault("schedules", False)
        options.setdefault("check_timeout", None)
        engine = Engine(tmp_path, **options)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.stop()


def test_loaded_events_reach_subscribers_attached_before_start(make_engine):
    engine = make_engine({"door.py": MACHINE})
    events = Events(engine.bus, "workflow.*")
    engine.start()
    [loaded] = events.of("workflow.loaded")
    assert loaded.workflow == "door"
    assert {k: loaded.data[k] for k in ("name", "kind", "generation", "tags", "line")} == {
        "name": "door", "kind": "state_machine", "generation": 1, "tags": ["demo"], "line": 6,
    }
    assert loaded.data["spec"]["initial"] == "closed"
    assert loaded.data["file"].endswith("door.py")


def test_loading_leaves_nothing_in_sys_modules(make_engine):
    engine = make_engine({"door.py": MACHINE})
    engine.start()
    assert not [name for name in sys.modules if name.startswith(MODULE_PREFIX)]


def test_loading_checks_files_in_a_child_process_by_default(make_engine):
    engine = make_engine({"door.py": MACHINE, "quits.py": "import sys\nsys.exit(0)\n"}, check_timeout=5)
    events = Events(engine.bus, "workflow.*")
    engine.start()
    assert engine.workflow_names() == ["door"]
    assert "sys.exit(0)" in events.of("workflow.load_failed")[0].data["message"]


def test_start_run_returns_at_once_and_the_run_finishes_on_its_version(make_engine, tmp_path):
    engine = make_engine({"gated.py": GATED_DAG.format(version=1)})
    events = Events(engine.bus)
    engine.start()
    first = engine.start_run("gated")
    events.wait("gate.waiting")
    (tmp_path / "gated.py").write_text(GATED_DAG.format(version=2))
    engine.reload()
    assert engine.definition("gated").generation == 2
    assert engine.run("gated", timeout=10) == {"work": 2}
    engine.bus.emit("gate.open")
    assert engine.run_record(first).future.result(10) == {"work": 1}


def test_reload_event_says_what_changed(make_engine, tmp_path):
    engine = make_engine({"door.py": MACHINE})
    events = Events(engine.bus, "workflow.*")
    engine.start()
    (tmp_path / "door.py").write_text(MACHINE.replace('"close")', '"close")\n    machine.add_transition("open", "ajar", "push")\n    machine.mark_final("ajar")'))
    engine.reload()
    [reloaded] = events.of("workflow.reloaded")
    assert reloaded.data["generation"] == 2
    assert reloaded.data["changes"]["states"] == {"added": ["ajar"], "removed": []}
    assert "open --push--> ajar" in reloaded.data["changes"]["transitions"]["added"]


def test_deleted_file_unregisters_after_its_in_flight_runs_finish(make_engine, tmp_path):
    engine = make_engine({"gated.py": GATED_DAG.format(version=1)})
    events = Events(engine.bus)
    engine.start()
    run_id = engine.start_run("gated")
    events.wait("gate.waiting")
    (tmp_path / "gated.py").unlink()
    engine.reload()
    assert engine.workflow_names() == []
    assert events.of("workflow.unloaded") == []
    with pytest.raises(UnknownWorkflowError, match="being unloaded"):
        engine.start_run("gated")
    engine.bus.emit("gate.open")
    assert engine.run_record(run_id).future.result(10) == {"work": 1}
    events.wait("workflow.unloaded")
    assert engine.runtime.definitions.get("gated") is None


def test_fire_routes_an_event_to_a_state_machine_instance(make_engine):
    engine = make_engine({"door.py": MACHINE})
    engine.start()
    instance = engine.start_run("door", inputs={"instance_id": "front"})
    assert instance == "front"
    assert engine.fire("door", "front", "open") is True
    assert engine.run_record("front").handle.current_state == "open"


def test_fire_reaches_instances_of_an_earlier_version(make_engine, tmp_path):
    engine = make_engine({"door.py": MACHINE})
    engine.start()
    engine.start_run("door", inputs={"instance_id": "back"})
    (tmp_path / "door.py").write_text(MACHINE.replace('tags=["demo"]', 'tags=["v2"]'))
    engine.reload()
    assert engine.fire("door", "back", "open") is True


def test_interval_schedule_starts_runs_on_the_runtime_clock(make_engine):
    clock = FakeClock()
    engine = make_engine({"sched.py": SCHEDULED}, runtime=Runtime(clock=clock))
    events = Events(engine.bus, "workflow.schedule_fired")
    engine.start()
    assert engine.scheduler.tick() == ["ticker"]
    assert engine.wait_idle(10)
    assert engine.scheduler.tick() == []
    clock.advance(5)
    assert engine.scheduler.tick() == ["ticker"]
    fired = events.wait("workflow.schedule_fired", 2)
    assert all(e.data["run_id"] for e in fired)


def test_schedule_skips_while_the_previous_run_is_still_going(make_engine):
    clock = FakeClock()
    engine = make_engine({"gated.py": GATED_DAG.format(version=1).replace('name="gated",', 'name="gated", trigger={"every": "1s"},')}, runtime=Runtime(clock=clock))
    events = Events(engine.bus)
    engine.start()
    engine.scheduler.tick()
    events.wait("gate.waiting")
    clock.advance(1)
    engine.scheduler.tick()
    skipped = events.wait("workflow.schedule_fired", 2)[1]
    assert skipped.data["run_id"] is None and "still running" in skipped.data["skipped"]
    engine.bus.emit("gate.open")


def test_on_trigger_starts_a_run_with_the_event_as_input(make_engine):
    engine = make_engine({"sched.py": SCHEDULED})
    events = Events(engine.bus, "run.completed")
    engine.start()
    engine.bus.emit("order.created", {"order_id": "o-7"})
    [completed] = events.wait("run.completed")
    assert completed.workflow == "on_order"
    assert engine.wait_idle(10)


def test_on_trigger_publishes_event_fired_naming_the_run_it_started(make_engine):
    engine = make_engine({"sched.py": SCHEDULED})
    events = Events(engine.bus, "workflow.event_fired")
    engine.start()
    order = engine.bus.emit("order.created", {"order_id": "o-8"})
    [fired] = events.wait("workflow.event_fired")
    assert fired.data == {
        "name": "on_order", "pattern": "order.*", "event": "order.created", "event_id": order.id,
        "run_id": fired.run_id,
    }
    assert engine.run_record(fired.run_id).future.result(10) == {"seen": "o-8"}


def test_cancel_run_stops_a_running_dag(make_engine):
    engine = make_engine({"gated.py": GATED_DAG.format(version=1)})
    events = Events(engine.bus)
    engine.start()
    run_id = engine.start_run("gated")
    events.wait("gate.waiting")
    assert engine.cancel_run(run_id) is True
    engine.bus.emit("gate.open")
    engine.wait_idle(10)
    assert engine.cancel_run(run_id) is False


def test_unknown_workflow_error_names_what_is_loaded(make_engine):
    engine = make_engine({"door.py": MACHINE})
    engine.start()
    with pytest.raises(UnknownWorkflowError, match="'nope' is not loaded; loaded: door"):
        engine.start_run("nope")


def test_stop_leaves_no_engine_threads(make_engine):
    engine = make_engine({"door.py": MACHINE, "sched.py": SCHEDULED}, watch=True, schedules=True)
    engine.start()
    engine.start_run("ticker")
    engine.stop()
    time.sleep(0.05)
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith(("flowconsole-", "dag-", "bus-async"))], names


def test_engine_is_a_context_manager(make_engine, tmp_path):
    (tmp_path / "door.py").write_text(MACHINE)
    with Engine(tmp_path, watch=False, schedules=False, check_timeout=None) as engine:
        assert engine.workflow_names() == ["door"]


FIXABLE = '''
from engine import workflow
from engine.dag import DAGWorkflow


def charge():
    {body}


@workflow(name="fixable")
def build():
    dag = DAGWorkflow("fixable")
    dag.add_task("charge", charge)
    return dag
'''


def test_dead_letter_retry_runs_the_reloaded_version(make_engine, tmp_path):
    engine = make_engine({"fixable.py": FIXABLE.format(body='raise ValueError("card service down")')})
    engine.start()
    with pytest.raises(Exception, match="card service down"):
        engine.run("fixable", timeout=10)
    [letter] = engine.runtime.dlq.list(workflow="fixable")
    (tmp_path / "fixable.py").write_text(FIXABLE.format(body='return "charged"'))
    engine.reload()
    engine.runtime.dlq.retry(letter.id, actor="test", reason="fixed the file")
    assert engine.runtime.dlq.get(letter.id).status == "resolved"


def test_state_dir_keeps_a_store_and_stop_closes_it(make_engine, tmp_path):
    state = tmp_path / "state"
    engine = make_engine({"door.py": MACHINE}, state_dir=state)
    engine.start()
    engine.start_run("door", inputs={"instance_id": "kept"})
    engine.stop()
    assert (state / "flowconsole.db").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("flowconsole-")]


def test_stopping_right_after_start_fires_no_schedule_into_a_closing_engine(tmp_path, caplog):
    from pathlib import Path

    samples = Path(__file__).resolve().parents[1] / "sample_workflows"
    for _ in range(3):
        engine = Engine(samples, state_dir=tmp_path / "state", check_timeout=None, watch=False)
        with caplog.at_level("ERROR", logger="engine"):
            engine.start()
            engine.stop()
        assert not [r for r in caplog.records if "failed to start" in r.getMessage()]
