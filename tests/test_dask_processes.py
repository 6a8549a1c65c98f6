"""The Dask executor with worker processes: pickling, dying workers, poison tasks.

One module-scoped `LocalCluster` of two single-thread worker processes, with
``distributed.scheduler.allowed-failures`` at 1: a task may kill one worker
and be rescheduled; killing a second makes Dask give up on that attempt
with `KilledWorker`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402

from engine import (  # noqa: E402
    DAGWorkflow,
    NotPicklableError,
    RetryPolicy,
    WorkerPool,
    WorkflowError,
    current_task,
)
from engine.executors.dask import DaskExecutor  # noqa: E402


@dataclass(frozen=True)
class Reading:
    sensor: str
    value: float


class SensorFault(Exception):
    """Raised in a worker process; must come back as itself."""


def read(sensor: str) -> Reading:
    return Reading(sensor, 21.5)


def faulty() -> None:
    raise SensorFault("sensor 7 is stuck")


def exit_the_first_time(marker: str) -> str:
    """Kill the worker process running it, unless it did so before."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os._exit(1)
    return f"survived in {os.getpid()}"


def always_exit() -> None:
    os._exit(1)


@pytest.fixture(scope="module")
def cluster():
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        executor = DaskExecutor.local(2, threads_per_worker=1, processes=True, name="dask-procs")
    yield executor
    executor.shutdown()


def test_results_and_exceptions_cross_processes_with_their_types(cluster, rt):
    assert not cluster.in_process
    wf = DAGWorkflow("sensors", runtime=rt, executor=cluster, failure_policy="continue")
    wf.add_task("reading", lambda: read("s1"))
    wf.add_task("who", lambda reading: (reading, os.getpid(), current_task().task_id), depends_on=["reading"])
    wf.add_task("broken", faulty)
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    reading, pid, task_id = info.value.results["who"]
    assert reading == Reading("s1", 21.5) and pid != os.getpid() and task_id == "who"
    error = info.value.errors["broken"]
    assert type(error) is SensorFault and str(error) == "sensor 7 is stuck"


def test_a_function_that_cannot_be_pickled_fails_at_submission_naming_the_task(cluster, rt):
    lock = threading.Lock()
    wf = DAGWorkflow("locked", runtime=rt, executor=cluster)
    wf.add_task("holds_lock", lambda: lock.locked())
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    error = info.value.errors["holds_lock"]
    assert isinstance(error, NotPicklableError) and isinstance(error, TypeError)
    assert "task 'holds_lock' of workflow 'locked'" in str(error) and "lock" in error.reason


def test_a_run_completes_when_a_worker_dies_mid_task(cluster, rt, tmp_path):
    marker = str(tmp_path / "died-once")
    wf = DAGWorkflow("survivor", runtime=rt, executor=cluster)
    wf.add_task("first", lambda: 1)
    wf.add_task("risky", lambda first: exit_the_first_time(marker), depends_on=["first"])
    wf.add_task("after", lambda risky: risky.startswith("survived"), depends_on=["risky"])
    result = wf.execute()
    assert Path(marker).exists()  # a worker did die
    assert result["after"] is True and result["risky"] != f"survived in {Path(marker).read_text()}"
    assert len(rt.dlq) == 0


def test_a_task_that_kills_every_worker_is_dead_lettered_after_its_attempts(cluster, rt):
    from distributed.scheduler import KilledWorker

    events = []
    rt.bus.subscribe("task.*", events.append)
    wf = DAGWorkflow("poisoned", runtime=rt, executor=cluster)
    wf.add_task("poison", always_exit, retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0))
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    assert isinstance(info.value.errors["poison"], KilledWorker)
    [letter] = rt.dlq.list()
    assert (letter.source, letter.unit, letter.attempts, letter.error_type) == ("task", "poison", 2, "distributed.scheduler.KilledWorker")
    assert [e.type for e in events] == ["task.started", "task.retrying", "task.started", "task.failed"]


def test_pool_work_runs_in_the_worker_processes(cluster, rt):
    with WorkerPool(2, runtime=rt, executor=cluster) as pool:
        pids = pool.submit(os.getpid)
        broken = pool.submit(faulty)
        pool.wait(60)
    assert pids.result() != os.getpid()
    assert type(broken.exception()) is SensorFault
    assert rt.dlq.list(source="pool")[0].error_type.endswith("SensorFault")
