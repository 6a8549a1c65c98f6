"""Records that were positional tuples are named: each field read by its name."""

from __future__ import annotations

from engine import DAGWorkflow, EventBus, FakeClock, Runtime
from engine.dag.model import AttemptOutcome, ReadyAttempt
from engine.dag.run import DAGRun
from engine.runtime import DefinitionTable
from engine.store.recovery import RecoveryReport, RestoredInstance, SkippedUnit


def test_a_runs_ready_attempts_and_outcomes_are_named(monkeypatch):
    seen: list[object] = []
    take = DAGRun._take_ready

    def spy_take(self):
        ready = take(self)
        seen.extend(ready)
        return ready

    monkeypatch.setattr(DAGRun, "_take_ready", spy_take)
    wf = DAGWorkflow("etl", runtime=Runtime(EventBus(), FakeClock()))
    wf.add_task("a", lambda: 1)
    wf.add_task("b", lambda a: a + 1, depends_on=["a"])
    assert wf.execute() == {"a": 1, "b": 2}
    ready = [item for item in seen if isinstance(item, ReadyAttempt)]
    assert [(item.task.id, item.attempt) for item in ready] == [("a", 1), ("b", 1)]
    assert ready[1].inputs == {"a": 1}
    assert AttemptOutcome("a", 1, True, 1, 0.0, None).ok is True


def test_a_recovery_report_names_what_it_restored_and_skipped():
    report = RecoveryReport()
    report.fsm_instances.append(RestoredInstance("door", "d-1"))
    report.failed.append(SkippedUnit("door/d-2", "ValueError: bad state"))
    assert report.fsm_instances[0].instance_id == "d-1" and report.failed[0].reason.startswith("ValueError")
    assert report.failed == [("door/d-2", "ValueError: bad state")]


def test_the_definition_table_counts_generations_by_name():
    table = DefinitionTable()
    assert (table.register("etl", "v1"), table.register("etl", "v2")) == (1, 2)
    assert table.get("etl") == "v2" and table.generation("etl") == 2 and table.generation("none") == 0
