"""The headline scenario, end to end: a DAG task fails for good and lands in the
dead-letter queue; its function is fixed (a new definition is loaded); the
operator retries the letter and it is resolved, with an event for each step."""

from __future__ import annotations

import threading

import pytest

from engine import RetryPolicy
from engine.dag.workflow import DAGWorkflow, WorkflowError


def nightly(runtime, transform) -> DAGWorkflow:
    dag = DAGWorkflow("nightly", runtime=runtime)
    dag.add_task("extract", lambda: [1, 2, 3])
    dag.add_task("transform", transform, depends_on=["extract"], retry=RetryPolicy(max_attempts=2, base_delay=0))
    return dag


def broken_transform(extract):
    raise ValueError(f"bad row in {extract}")


def fixed_transform(extract):
    return sum(extract)


def test_failed_task_is_dead_lettered_then_retried_after_the_fix_and_resolved(runtime) -> None:
    threads_before = set(threading.enumerate())
    runtime.definitions.register("nightly", nightly(runtime, broken_transform))
    with pytest.raises(WorkflowError):
        runtime.definitions.get("nightly").execute()

    [letter] = runtime.dlq.list()
    assert (letter.source, letter.workflow, letter.unit, letter.status) == ("task", "nightly", "transform", "dead")
    assert letter.payload == {"inputs": {"extract": [1, 2, 3]}}
    assert letter.attempts == 2 and letter.error_type == "ValueError"
    assert letter.definition_version == 1
    assert letter.location.endswith(":broken_transform")

    # The fix: the workflow file is edited and hot-reloaded as a new definition.
    runtime.definitions.register("nightly", nightly(runtime, fixed_transform))
    start = len(runtime.bus.event_store)
    done = runtime.dlq.retry(letter.id, actor="oncall", reason="fixed the row parser")

    assert done.status == "resolved"
    after = [e for e in list(runtime.bus.event_store)[start:] if not e.type.startswith("span.")]
    assert [e.type for e in after] == [
        "dlq.retried", "run.started", "task.started", "task.completed", "run.completed", "dlq.resolved",
    ]
    assert after[3].data["result"] == 6 and after[3].workflow == "nightly"
    assert after[-1].data["actor"] == "oncall"
    assert set(threading.enumerate()) - threads_before == set()


def test_a_retry_that_still_fails_keeps_the_letter_with_one_more_attempt(runtime) -> None:
    runtime.definitions.register("nightly", nightly(runtime, broken_transform))
    with pytest.raises(WorkflowError):
        runtime.definitions.get("nightly").execute()
    [letter] = runtime.dlq.list()
    back = runtime.dlq.retry(letter.id)
    assert back.status == "dead" and back.attempts == 3
    assert len(runtime.dlq) == 1
    assert [e.type for e in runtime.bus.event_store if e.type.startswith("dlq.")] == [
        "dlq.added", "dlq.retried", "dlq.retry_failed",
    ]
