"""A Dask cluster with no workers: said at once, and a timed-out run names
the task it waits for and why."""

from __future__ import annotations

import logging

import pytest

distributed = pytest.importorskip("distributed")

from engine import Engine, Runtime  # noqa: E402
from engine.executors.dask import DaskExecutor  # noqa: E402
from engine.host.run_timeout import RunTimeoutError  # noqa: E402

ONE_TASK = '''
from engine import workflow
from engine.dag import DAGWorkflow


@workflow(name="waits")
def build():
    dag = DAGWorkflow("waits")
    dag.add_task("crunch", lambda: 42)
    return dag
'''


@pytest.fixture
def empty_cluster():
    cluster = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None)
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_an_executor_on_a_cluster_without_workers_says_so(empty_cluster, caplog):
    with caplog.at_level(logging.WARNING, logger="engine.dask"):
        executor = DaskExecutor(empty_cluster, name="empty")
    try:
        assert "has no workers" in caplog.text
        assert "has no workers" in executor.stall_reason()
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def test_a_run_timed_out_on_a_cluster_without_workers_names_the_task_and_the_wait(empty_cluster, tmp_path, caplog):
    (tmp_path / "waits.py").write_text(ONE_TASK)
    executor = DaskExecutor(empty_cluster, name="empty")
    engine = Engine(tmp_path, runtime=Runtime(), executor=executor, watch=False, schedules=False, check_timeout=None)
    try:
        engine.start()
        with caplog.at_level(logging.WARNING, logger="engine.dask"):
            with pytest.raises(RunTimeoutError) as raised:
                engine.run("waits", timeout=0.5)
    finally:
        engine.stop(timeout=0.5)
        executor.shutdown(wait=False, cancel_futures=True)
    message = str(raised.value)
    assert "workflow 'waits' run" in message and "did not finish within 0.5s" in message
    assert "task 'crunch' (running)" in message
    assert "has no workers" in message
    assert "task 'crunch' of workflow 'waits' waits" in caplog.text
