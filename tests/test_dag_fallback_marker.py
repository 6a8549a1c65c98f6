"""A DAG task's fallback is handled by the one fallback module the breakers use too."""

from __future__ import annotations

from engine import DAGWorkflow, EventBus, FakeClock, RetryPolicy, Runtime
from engine.dag.model import Task
from engine.resilience.fallback import NO_FALLBACK


def test_a_task_without_a_fallback_holds_the_shared_no_fallback_marker():
    wf = DAGWorkflow("etl", runtime=Runtime(EventBus(), FakeClock()))
    wf.add_task("load", lambda: 1)
    assert wf.tasks["load"].fallback is NO_FALLBACK and not wf.tasks["load"].has_fallback
    assert Task(id="t", func=lambda: 1).fallback is NO_FALLBACK


def test_none_is_a_fallback_value_and_a_callable_fallback_is_given_the_error():
    wf = DAGWorkflow("etl", runtime=Runtime(EventBus(), FakeClock()))
    wf.add_task("none", lambda: 1 / 0, retry=RetryPolicy(max_attempts=1), fallback=None)
    wf.add_task("named", lambda: 1 / 0, retry=RetryPolicy(max_attempts=1), fallback=lambda exc: type(exc).__name__)
    assert wf.execute() == {"none": None, "named": "ZeroDivisionError"}
