"""Work reaches Dask in batches: one ``client.map`` for what becomes ready together."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")

from engine import DAGWorkflow, EventBus, ExecutorShutdownError, Runtime  # noqa: E402
from engine.executors.dask import DaskExecutor  # noqa: E402


@pytest.fixture
def dask():
    executor = DaskExecutor.local(2, threads_per_worker=2, processes=False, name="dask-batching")
    yield executor
    executor.shutdown()


def count_maps(executor: DaskExecutor) -> list[int]:
    """Record the size of every ``client.map`` the executor makes (the real call still runs)."""
    sizes: list[int] = []
    real = executor.client.map

    def counting(fn, *iterables, **kwargs):
        sizes.append(len(iterables[0]))
        return real(fn, *iterables, **kwargs)

    executor.client.map = counting
    return sizes


def test_tasks_that_become_ready_together_reach_dask_in_one_map(dask) -> None:
    sizes = count_maps(dask)
    dag = DAGWorkflow("fan", runtime=Runtime(EventBus()), max_parallel=20, executor=dask)
    dag.add_task("source", lambda: 1)
    for i in range(12):
        dag.add_task(f"m{i}", lambda source: source, depends_on=["source"])
    dag.add_task("sink", lambda **deps: sum(deps.values()), depends_on=[f"m{i}" for i in range(12)])

    assert dag.execute()["sink"] == 12
    assert sizes == [1, 12, 1]


def test_work_submitted_in_a_batch_is_sent_when_the_block_ends(dask) -> None:
    sizes = count_maps(dask)
    with dask.batched():
        futures = [dask.submit(pow, 2, n) for n in range(5)]
        assert sizes == []
    assert [f.result(10) for f in futures] == [1, 2, 4, 8, 16]
    assert sizes == [5]


def test_a_batch_that_ends_after_shutdown_fails_its_work() -> None:
    executor = DaskExecutor.local(1, processes=False, name="dask-closing")
    with executor.batched():
        future = executor.submit(pow, 2, 3)
        executor.shutdown(wait=False)
    assert isinstance(future.exception(10), ExecutorShutdownError)
    executor.shutdown()
