"""The DAG, pool and resilience suites, run a second time on a Dask cluster.

Every test of those modules is collected here again (named
``test_<suite>__<test>``), unchanged, while `use_executor` makes an
in-process `LocalCluster(processes=False)` the executor of every DAG run and
worker pool they start: the same scenarios must give the same results and
exception types on Dask as on threads. One cluster serves the whole module.

Left out, with the reason: the 10,000-task pool run (10,000 round trips
through Dask's scheduler; `test_dask_executor` runs the scenario at 1,000)
and the stealing test's timing bound, which allows 5 ms tasks no overhead
(a Dask round trip costs about that here; `test_dask_executor` proves the
pool's parallelism on Dask with longer tasks).
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("distributed")

from engine import use_executor  # noqa: E402
from engine.executors.dask import DaskExecutor  # noqa: E402

from tests import (  # noqa: E402
    test_dag,
    test_dag_failures,
    test_dag_hypothesis,
    test_pool,
    test_resilience_headline,
)

SUITES = {
    "dag": test_dag,
    "dag_failures": test_dag_failures,
    "dag_hypothesis": test_dag_hypothesis,
    "pool": test_pool,
    "resilience_headline": test_resilience_headline,
}
LEFT_OUT = {
    "pool": {
        "test_ten_thousand_tasks_with_ten_percent_failing_all_finish",
        "test_stealing_keeps_every_worker_busy_when_all_work_went_to_one",
    },
}

for _suite, _module in SUITES.items():
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test) and _name not in LEFT_OUT.get(_suite, ()):
            globals()[f"test_{_suite}__{_name[5:]}"] = _test
del _suite, _module, _name, _test


@pytest.fixture(scope="module", autouse=True)
def dask_cluster():
    executor = DaskExecutor.local(2, threads_per_worker=2, processes=False, name="dask-suites")
    # Start every worker thread now: the suites check that no thread outlives a test.
    for future in [executor.submit(time.sleep, 0.05) for _ in range(8)]:
        future.result(30)
    with use_executor(executor):
        yield executor
    executor.shutdown()


def test_the_suites_really_run_on_dask(dask_cluster, rt):
    from engine import DAGWorkflow, WorkerPool

    wf = DAGWorkflow(runtime=rt)
    wf.add_task("where", lambda: __import__("threading").current_thread().name)
    assert "Dask" in wf.execute()["where"]
    with WorkerPool(1, runtime=rt) as pool:
        assert pool.remote
        assert "Dask" in pool.submit(lambda: __import__("threading").current_thread().name).result(10)
