"""A dead-lettered DAG task is retried with the definition of its own runtime."""

from __future__ import annotations

import pytest

from engine import DAGWorkflow, EventBus, FakeClock, RetryPolicy, Runtime, WorkflowError


def failing_billing(runtime: Runtime, ran: list[str], label: str) -> DAGWorkflow:
    wf = DAGWorkflow("billing", runtime=runtime)

    def charge() -> str:
        ran.append(label)
        if ran.count(label) == 1:
            raise ConnectionError(f"{label}: gateway down")
        return label

    wf.add_task("charge", charge, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(WorkflowError):
        wf.execute()
    return wf


def test_a_letter_is_retried_with_its_runtimes_definition_not_anothers_of_the_same_name():
    ran: list[str] = []
    first, second = Runtime(EventBus(), FakeClock()), Runtime(EventBus(), FakeClock())
    failing_billing(first, ran, "first")
    failing_billing(second, ran, "second")
    [letter] = first.dlq.list()
    assert first.dlq.retry(letter.id, actor="ops").status == "resolved"
    assert ran == ["first", "second", "first"]
