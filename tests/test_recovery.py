"""What survives a restart: dead letters, state machines, DAG runs, and operator retries."""

from __future__ import annotations

import pytest

from engine import Event, EventBus, FakeClock, Runtime
from engine.dag.workflow import DAGWorkflow
from engine.fsm.model import MachineDefinition
from engine.resilience.retry import RetryPolicy
from engine.store import Store


def _runtime() -> Runtime:
    return Runtime(EventBus(), FakeClock())


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state"


def _restart(state, runtime=None):
    runtime = runtime or _runtime()
    return runtime, Store.open(state).attach(runtime)


def _machine(runtime: Runtime) -> MachineDefinition:
    machine = MachineDefinition("idle", name="deploy", runtime=runtime)
    machine.add_transition("idle", "building", "start")
    machine.add_transition("building", "staging", "built")
    return machine


def test_dead_letters_survive_a_restart(state):
    runtime, store = _restart(state)
    letter = runtime.dlq.add(source="task", unit="charge", error=ValueError("card declined"),
                             payload={"inputs": {"amount": 5}}, workflow="billing")
    store.close()

    runtime, store = _restart(state)
    try:
        again = runtime.dlq.get(letter.id)
        assert (again.unit, again.error, again.payload) == ("charge", "card declined", {"inputs": {"amount": 5}})
        assert [l.id for l in runtime.dlq.list(workflow="billing")] == [letter.id]
    finally:
        store.close()


def test_dead_letter_is_committed_before_add_returns(state):
    runtime, store = _restart(state)
    try:
        letter = runtime.dlq.add(source="task", unit="u", error="boom")
        with store.reader() as conn:
            assert conn.execute("SELECT id FROM dead_letters").fetchall() == [(letter.id,)]
    finally:
        store.close()


def test_dead_letter_actions_survive_a_restart(state):
    runtime, store = _restart(state)
    letter = runtime.dlq.add(source="task", unit="u", error="boom")
    runtime.dlq.discard(letter.id, "not needed", actor="ops")
    store.close()
    runtime, store = _restart(state)
    try:
        again = runtime.dlq.get(letter.id)
        assert again.status == "discarded"
        assert [a.action for a in again.history] == ["added", "discard"]
    finally:
        store.close()


def test_letters_added_before_attach_are_kept(state):
    runtime = _runtime()
    early = runtime.dlq.add(source="task", unit="early", error="boom")
    store = Store.open(state).attach(runtime)
    store.close()
    runtime, store = _restart(state)
    try:
        assert runtime.dlq.get(early.id).unit == "early"
    finally:
        store.close()


def test_operator_retry_after_restart_runs_the_current_definition(state):
    runtime, store = _restart(state)
    dag = DAGWorkflow("billing", runtime=runtime)
    dag.add_task("charge", lambda: 1 / 0)
    runtime.definitions.register("billing", dag)
    run = dag.start()
    with pytest.raises(Exception):
        run.wait(10)
    [letter] = runtime.dlq.list(workflow="billing")
    store.close()

    runtime, store = _restart(state)
    try:
        fixed = DAGWorkflow("billing", runtime=runtime)
        fixed.add_task("charge", lambda: "charged")
        runtime.definitions.register("billing", fixed)
        outcome = runtime.dlq.retry(letter.id, actor="ops")
        assert outcome.status == "resolved"
        store.flush()
        assert store.events(type="dlq.resolved")
    finally:
        store.close()


def test_state_machine_instances_come_back_with_state_context_and_history(state):
    runtime, store = _restart(state)
    instance = _machine(runtime).create_instance("d-1", {"version": "1.2"})
    instance.trigger("start")
    instance.context["artifact"] = "build-7"
    instance.trigger("built")
    store.close()

    runtime, store = _restart(state)
    try:
        machine = _machine(runtime)
        runtime.definitions.register("deploy", machine)
        report = store.recover(runtime)
        assert report.fsm_instances == [("deploy", "d-1")]
        restored = machine.instances["d-1"]
        assert restored.current_state == "staging"
        assert restored.context == {"version": "1.2", "artifact": "build-7"}
        assert restored.history == ["idle", "building", "staging"]
    finally:
        store.close()


def test_state_machine_journal_follows_reset(state):
    runtime, store = _restart(state)
    instance = _machine(runtime).create_instance("d-2")
    instance.trigger("start")
    instance.reset()
    store.flush()
    try:
        [record] = store.fsm_instances()
        assert (record.state, record.history, record.context) == ("idle", [], {})
    finally:
        store.close()


DOOR = """
from engine import workflow
from engine.fsm import StateMachine


@workflow(name="door")
def build():
    machine = StateMachine("closed", {"opened": 0}, name="door", instance_id="door-1")
    machine.add_transition("closed", "open", "open", action=lambda c: c.update(opened=c["opened"] + 1))
    machine.add_transition("open", "closed", "close")
    return machine
"""


def _door_engine(tmp_path, state):
    from engine.host import Engine

    (tmp_path / "door.py").write_text(DOOR)
    engine = Engine(tmp_path / "door.py", state_dir=state, check_timeout=None, watch=False, schedules=False)
    seen: list[tuple[str, str]] = []
    engine.runtime.bus.subscribe("fsm.*", lambda e: seen.append((e.type, e.data["to"])))
    engine.start()
    return engine, seen


def test_a_builders_own_instance_keeps_its_state_over_two_clean_restarts(tmp_path, state):
    engine, _ = _door_engine(tmp_path, state)
    engine.fire("door", "door-1", "open")
    engine.stop()
    for _ in range(2):
        engine, seen = _door_engine(tmp_path, state)
        try:
            door = engine.runtime.definitions.get("door")
            assert (door.current_state, door.context, door.history) == ("open", {"opened": 1}, ["closed", "open"])
            assert seen[-1] == ("fsm.instance_restored", "open")
        finally:
            engine.stop()
    with Store.open(state) as store:
        [record] = store.fsm_instances()
        assert (record.state, record.context) == ("open", {"opened": 1})


def test_an_instance_created_in_a_fresh_state_directory_is_not_restored(state):
    runtime, store = _restart(state)
    restored = []
    runtime.bus.subscribe("fsm.instance_restored", restored.append)
    try:
        machine = _machine(runtime)
        runtime.definitions.register("deploy", machine)
        machine.create_instance("d-new")
        store.flush()
        report = store.recover(runtime)
        assert (report.fsm_instances, restored) == ([], [])
    finally:
        store.close()


def test_a_dead_letter_retry_cut_short_is_ended_failed_not_run_as_the_whole_workflow(state):
    runtime, store = _restart(state)
    store.append(Event("run.started", {"tasks": {"b": []}, "retry_of": {"run_id": "r1", "dead_letter": "L1"}},
                       workflow="pipeline", run_id="retry-1"), wait=True)
    store.close()
    runtime, store = _restart(state)
    try:
        calls = []
        dag = DAGWorkflow("pipeline", runtime=runtime)
        dag.add_task("a", lambda: calls.append("a"))
        dag.add_task("b", lambda a: calls.append("b"), depends_on=["a"])
        runtime.definitions.register("pipeline", dag)
        report = store.recover(runtime)
        store.flush()
        assert (report.dag_runs, calls) == ({}, [])
        assert [run.status for run in store.runs(kind="dag")] == ["failed"]
        assert "retry dead letter L1 again" in report.failed[0][1]
    finally:
        store.close()


def test_recovery_reports_a_workflow_that_is_not_loaded(state):
    runtime, store = _restart(state)
    _machine(runtime).create_instance("d-3")
    store.close()
    runtime, store = _restart(state)
    try:
        report = store.recover(runtime)
        assert report.failed and "deploy" in report.failed[0][0]
    finally:
        store.close()


def test_journal_records_task_attempts_and_json_results(state):
    runtime, store = _restart(state)
    dag = DAGWorkflow("etl", runtime=runtime)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 2:
            raise OSError("disk")
        return {"rows": 3}

    dag.add_task("extract", flaky, retry=RetryPolicy(max_attempts=3, base_delay=0, jitter="none"))
    dag.add_task("opaque", lambda extract: object(), ["extract"])
    dag.start(run_id="r1").wait(10)
    store.flush()
    try:
        [run] = store.runs()
        assert (run.run_id, run.kind, run.status) == ("r1", "dag", "completed")
        tasks = store.tasks("r1")
        assert (tasks["extract"].attempts, tasks["extract"].result) == (2, {"rows": 3})
        assert tasks["opaque"].status == "completed" and not tasks["opaque"].has_result
    finally:
        store.close()


def test_interrupted_dag_run_resumes_and_skips_committed_tasks(state):
    runtime, store = _restart(state)
    ran: list[str] = []
    dag = DAGWorkflow("etl", runtime=runtime)
    dag.add_task("a", lambda: ran.append("a") or "A")
    dag.add_task("b", lambda a: ran.append("b") or a + "B", ["a"])
    dag.add_task("c", lambda b: ran.append("c") or object(), ["b"])
    dag.add_task("d", lambda c: ran.append("d") or "D", ["c"])
    dag.start(run_id="r1").wait(10)
    store.flush()
    # Make the journal look like a crash after c: the run is still running
    # and d never completed.
    store.write(lambda conn: conn.execute("UPDATE runs SET status = 'running'"), wait=True)
    store.write(lambda conn: conn.execute("DELETE FROM tasks WHERE task = 'd'"), wait=True)
    store.close()

    runtime, store = _restart(state)
    try:
        ran.clear()
        dag2 = DAGWorkflow("etl", runtime=runtime)
        for tid, deps in (("a", []), ("b", ["a"]), ("c", ["b"]), ("d", ["c"])):
            dag2.add_task(tid, (lambda t: lambda **kw: ran.append(t) or t.upper())(tid), deps)
        report = store.recover(runtime, {"etl": dag2})
        results = report.dag_runs["r1"].wait(10)
        # a and b come back from the journal; c's result was not JSON, so it runs again.
        assert ran == ["c", "d"]
        assert results["b"] == "AB"
        store.flush()
        assert store.runs()[0].status == "completed"
    finally:
        store.close()


def _saga(runtime: Runtime, log: list[str], fail_at: str | None = None):
    from engine.saga.orchestrator import SagaOrchestrator

    saga = SagaOrchestrator("order", runtime=runtime)
    for name in ("reserve", "pay", "ship"):
        def forward(name=name):
            if name == fail_at:
                raise RuntimeError(f"{name} failed")
            log.append(name)
            return f"{name}-ok"

        saga.add_step(name, forward, lambda name=name: log.append(f"undo-{name}"))
    return saga


def test_saga_journal_survives_a_restart(state):
    runtime, store = _restart(state)
    _saga(runtime, []).execute(run_id="s1")
    store.close()
    runtime, store = _restart(state)
    try:
        record = store.saga_steps("s1")
        assert record.completed == {"reserve": "reserve-ok", "pay": "pay-ok", "ship": "ship-ok"}
        assert store.runs(kind="saga")[0].status == "completed"
    finally:
        store.close()


def test_interrupted_saga_resumes_forward(state):
    runtime, store = _restart(state)
    _saga(runtime, []).execute(run_id="s1")
    store.flush()
    # As if the process died after "pay" committed.
    store.write(lambda conn: conn.execute("UPDATE runs SET status = 'running'"), wait=True)
    store.write(lambda conn: conn.execute("DELETE FROM saga_steps WHERE step = 'ship'"), wait=True)
    store.close()

    runtime, store = _restart(state)
    try:
        log: list[str] = []
        saga = _saga(runtime, log)
        report = store.recover(runtime, {"order": saga})
        assert report.sagas["s1"].result(10) == {"reserve": "reserve-ok", "pay": "pay-ok", "ship": "ship-ok"}
        assert log == ["ship"]
        store.flush()
        assert store.runs(kind="saga")[0].status == "completed"
    finally:
        store.close()


def test_interrupted_saga_that_was_compensating_finishes_its_compensations(state):
    runtime, store = _restart(state)
    with pytest.raises(Exception):
        _saga(runtime, [], fail_at="ship").execute(run_id="s2")
    store.flush()
    # As if the process died after undoing "pay" but before undoing "reserve".
    store.write(lambda conn: conn.execute("UPDATE runs SET status = 'running'"), wait=True)
    store.write(lambda conn: conn.execute(
        "DELETE FROM saga_steps WHERE step = 'reserve' AND action = 'compensated'"), wait=True)
    store.close()

    runtime, store = _restart(state)
    try:
        log: list[str] = []
        report = store.recover(runtime, {"order": _saga(runtime, log)})
        report.sagas["s2"].result(10)
        assert log == ["undo-reserve"]
        store.flush()
        assert store.runs(kind="saga")[0].status == "compensated"
    finally:
        store.close()


def test_retention_dlq_cap_is_the_queue_capacity(state):
    from engine.store import Retention

    runtime = _runtime()
    store = Store.open(state, retention=Retention(dlq_cap=2)).attach(runtime)
    try:
        letters = [runtime.dlq.add(source="task", unit=f"u{i}", error="boom") for i in range(3)]
        assert [l.id for l in runtime.dlq.list()] == [letters[1].id, letters[2].id]
        assert store.dead_letters.count() == 2
    finally:
        store.close()


def test_resumed_task_sees_the_same_idempotency_key(state):
    from engine.dag.workflow import current_task

    runtime, store = _restart(state)
    dag = DAGWorkflow("etl", runtime=runtime)
    dag.add_task("load", lambda: current_task().idempotency_key)
    dag.start(run_id="r7").wait(10)
    store.flush()
    first = store.tasks("r7")["load"].result
    store.write(lambda conn: conn.execute("UPDATE runs SET status = 'running'"), wait=True)
    store.write(lambda conn: conn.execute("DELETE FROM tasks"), wait=True)
    store.close()

    runtime, store = _restart(state)
    try:
        again = DAGWorkflow("etl", runtime=runtime)
        again.add_task("load", lambda: current_task().idempotency_key)
        results = store.recover(runtime, {"etl": again}).dag_runs["r7"].wait(10)
        assert results["load"] == first == "r7:load"
    finally:
        store.close()
