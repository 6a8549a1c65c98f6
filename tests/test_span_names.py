"""Span names follow one convention for every kind: ``KIND:NAME``.

A DAG run is ``run:<workflow>`` with ``task:<id>`` children; a saga run is
``saga:<saga>`` with ``step:<step>`` and ``compensate:<step>`` children; a
choreography's steps and compensations are ``step:<event>`` and
``compensate:<event>``.
"""

from __future__ import annotations

import pytest

from engine import DAGWorkflow, RetryPolicy, SagaChoreography, SagaError, SagaOrchestrator


def span_names(runtime) -> list[str]:
    return [e.data["name"] for e in runtime.bus.event_store if e.type == "span.finished"]


def test_a_dag_run_is_run_colon_name_with_task_colon_id_children(runtime) -> None:
    dag = DAGWorkflow("nightly", runtime=runtime)
    dag.add_task("load", lambda: 1)
    dag.execute()
    assert sorted(span_names(runtime)) == ["run:nightly", "task:load"]


def test_a_saga_run_is_saga_colon_name_with_step_and_compensate_children(runtime) -> None:
    saga = SagaOrchestrator("refund", runtime=runtime, compensation_retry=RetryPolicy.no_retry())

    def ship():
        raise RuntimeError("no courier")

    saga.add_step("pay", lambda: "paid", lambda: None)
    saga.add_step("ship", ship, lambda: None)
    with pytest.raises(SagaError):
        saga.execute(run_id="r-1")
    names = span_names(runtime)
    assert {"saga:refund", "step:pay", "step:ship", "compensate:pay"} <= set(names)
    assert all(name.partition(":")[0] in ("saga", "step", "compensate") for name in names)


def test_a_choreographys_steps_are_step_and_compensate_colon_event(runtime) -> None:
    chor = SagaChoreography("orders", runtime=runtime, compensation_retry=RetryPolicy.no_retry())

    def reserve(event):
        chor.emit("stock.reserved", {"order_id": event.data["order_id"]})

    def ship(event):
        raise RuntimeError("no courier")

    chor.on_event("order.created", reserve, lambda event: None)
    chor.on_event("stock.reserved", ship, lambda event: None)
    chor.emit("order.created", {"order_id": "o-1"})
    names = set(span_names(runtime))
    assert {"step:order.created", "step:stock.reserved", "compensate:order.created"} <= names
