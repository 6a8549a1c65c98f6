"""Every sample workflow runs on ``dask-local`` (worker processes), and an
engine object sent to a worker fails with a message saying what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from engine import CircuitBreaker, DAGWorkflow, Engine, NotPicklableError, Runtime, WorkflowError  # noqa: E402
from engine.executors.dask import DaskExecutor  # noqa: E402
from engine.local_only import LocalOnlyError  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "sample_workflows"


@pytest.fixture(scope="module")
def dask_local():
    executor = DaskExecutor.local(2, threads_per_worker=1, processes=True, name="dask-samples")
    yield executor
    executor.shutdown()


def _startable(engine: Engine) -> list[str]:
    names = []
    for name in engine.workflow_names():
        definition = engine.definition(name)
        if definition.meta.event_pattern or (
            definition.kind in ("event_driven", "choreography") and not definition.meta.start_event
        ):
            continue
        names.append(name)
    return names


def test_every_sample_runs_on_dask_local(dask_local):
    engine = Engine(SAMPLES, executor=dask_local, watch=False, schedules=False, check_timeout=None)
    failures: dict[str, str] = {}
    with engine:
        names = _startable(engine)
        descriptions = {name: engine.definition(name).meta.description for name in names}
        results = {}
        for name in names:
            try:
                results[name] = engine.run(name, timeout=60)
            except Exception as exc:  # noqa: BLE001 - collected, judged below
                failures[name] = f"{type(exc).__name__}: {exc}"
    assert {"deployment_release", "flaky_api_fails_sometimes", "shop_checkout", "pool_priority_jobs"} <= set(names)
    assert not [f for f in failures.values() if "pickle" in f or "remote worker" in f], failures
    for name in failures:
        assert "on purpose" in descriptions[name], failures[name]
    assert results["pool_priority_jobs"] == [x * x for x in range(20)]
    assert results["deployment_release"] == {"release": "production"}
    assert results["shop_checkout"]["confirm"].startswith("order-")


def _fails_on_dask(executor, func) -> BaseException:
    dag = DAGWorkflow("sends", runtime=Runtime(), executor=executor)
    dag.add_task("uses", func)
    with pytest.raises(WorkflowError):
        dag.execute()
    return dag.tasks["uses"].error


def test_the_runtime_used_in_a_task_for_a_worker_says_to_keep_the_task_local(dask_local):
    runtime = Runtime()
    error = _fails_on_dask(dask_local, lambda: runtime.bus.emit("from.worker", {}))
    assert isinstance(error, NotPicklableError)
    assert "the engine's runtime lives in the engine's process" in str(error)
    assert "add_task(..., local=True)" in str(error)


def test_a_breaker_used_in_a_task_for_a_worker_says_to_keep_the_task_local(dask_local):
    breaker = CircuitBreaker(name="payments")
    error = _fails_on_dask(dask_local, lambda: breaker.call(lambda: "paid"))
    assert "circuit breaker 'payments' lives in the engine's process" in str(error)
    assert "local=True" in str(error)


def test_a_local_task_runs_in_the_engine_process_and_the_others_on_the_workers(dask_local):
    dag = DAGWorkflow("where", runtime=Runtime(), executor=dask_local)
    dag.add_task("here", os.getpid, local=True)
    dag.add_task("there", os.getpid)
    result = dag.execute()
    assert result["here"] == os.getpid() != result["there"]


def test_pickling_the_runtime_anywhere_is_the_same_clear_error():
    import pickle

    with pytest.raises(LocalOnlyError, match="local=True"):
        pickle.dumps(Runtime())
