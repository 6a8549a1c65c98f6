"""String states are `StrEnum`s: a dead letter's status, a breaker's override, a workflow's kind.

Each compares equal to its text, and events and stored records carry the plain text.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine import CircuitBreaker, DeadLetter, EventBus, FakeClock, Runtime
from engine.host.kinds import WorkflowKind
from engine.jsonable import plain_copy
from engine.resilience.breaker.config import BreakerOverride
from engine.resilience.dlq.letter import DeadLetterStatus


def test_a_dead_letters_status_is_a_status_and_its_record_holds_the_text():
    runtime = Runtime(EventBus(), FakeClock())
    letter = runtime.dlq.add(source="task", unit="charge", error=ValueError("declined"))
    assert letter.status is DeadLetterStatus.DEAD and letter.status == "dead"
    record = letter.to_dict()
    assert type(record["status"]) is str and json.loads(json.dumps(record))["status"] == "dead"
    assert DeadLetter.from_dict(record).status is DeadLetterStatus.DEAD


def test_a_status_set_as_text_by_an_action_becomes_a_status():
    runtime = Runtime(EventBus(), FakeClock())
    letter = runtime.dlq.add(source="task", unit="charge", error=ValueError("declined"))
    discarded = runtime.dlq.discard(letter.id, actor="ops", reason="known")
    assert discarded.status is DeadLetterStatus.DISCARDED


def test_a_breaker_override_is_an_override_and_its_event_carries_the_text():
    runtime = Runtime(EventBus(enable_event_sourcing=True), FakeClock())
    breaker = CircuitBreaker(name="payments", runtime=runtime)
    breaker.force_open(actor="ops")
    assert breaker.override is BreakerOverride.FORCED_OPEN
    [forced] = [e for e in runtime.bus.event_store if e.type == "breaker.forced"]
    assert type(forced.data["override"]) is str and forced.data["override"] == "forced_open"


def test_a_loaded_workflows_kind_is_a_kind_and_its_spec_event_carries_the_text(tmp_path: Path):
    from engine import Engine

    (tmp_path / "nightly.py").write_text(
        "from engine import DAGWorkflow, workflow\n\n\n@workflow(name='nightly')\ndef build():\n"
        "    dag = DAGWorkflow('nightly')\n    dag.add_task('work', lambda: 1)\n    return dag\n"
    )
    engine = Engine(tmp_path, watch=False, schedules=False, check_timeout=None)
    engine.start()
    try:
        assert engine.definition("nightly").kind is WorkflowKind.DAG
        [loaded] = [e for e in engine.bus.event_store if e.type == "workflow.loaded"]
        assert type(loaded.data["kind"]) is str and loaded.data["kind"] == "dag"
    finally:
        engine.stop()


def test_a_str_enum_in_event_data_is_copied_as_its_text():
    assert plain_copy({"status": DeadLetterStatus.RETRYING}) == {"status": "retrying"}
    assert type(plain_copy(DeadLetterStatus.RETRYING)) is str
