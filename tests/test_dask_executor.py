"""The Dask executor on an in-process cluster, and the DAG's remote path."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402

from engine import (  # noqa: E402
    DAGWorkflow,
    Engine,
    EventBus,
    ExecutorConnectError,
    ExecutorShutdownError,
    ExecutorSpecError,
    RetryPolicy,
    Runtime,
    TaskTimeoutError,
    ThreadExecutor,
    WorkerPool,
    WorkflowError,
    current_task,
    executor_from_spec,
)
from engine.executors.dask import DaskExecutor  # noqa: E402


@pytest.fixture(scope="module")
def dask():
    executor = DaskExecutor.local(2, threads_per_worker=2, processes=False, name="dask-unit")
    yield executor
    executor.shutdown()


class PicklingExecutor:
    """A remote executor without a cluster: every call is pickled and unpickled first."""

    remote = True
    max_workers = 2

    def __init__(self) -> None:
        self.sent: list[object] = []
        self._threads = ThreadExecutor(2, name="pickling")

    def submit(self, fn, /, *args, **kwargs):
        self.sent.append(fn)
        fn, args, kwargs = cloudpickle.loads(cloudpickle.dumps((fn, args, kwargs)))
        return self._threads.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True):
        self._threads.shutdown(wait)


# -- the executor ------------------------------------------------------------------

def test_in_process_cluster_passes_objects_by_reference(dask):
    gate = threading.Event()
    assert dask.in_process and dask.remote and dask.max_workers == 4
    assert dask.submit(lambda: gate).result(10) is gate


def test_an_exception_comes_back_as_the_very_object_raised(dask):
    class Unpicklable(Exception):
        def __init__(self):
            super().__init__("holds a lock")
            self.lock = threading.Lock()

    raised = []

    def fail():
        raised.append(Unpicklable())
        raise raised[0]

    error = dask.submit(fail).exception(10)
    assert error is raised[0] and error.__traceback__ is not None


def test_cancelling_the_future_cancels_the_work(dask):
    gate = threading.Event()
    blockers = [dask.submit(gate.wait, 5) for _ in range(dask.max_workers)]
    queued = dask.submit(lambda: "never")
    assert queued.cancel()
    gate.set()
    for blocker in blockers:
        assert blocker.result(10) is True
    assert queued.cancelled()


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_submit_after_shutdown_is_a_clear_error():
    executor = DaskExecutor.local(1, processes=False, name="dask-closing")
    assert executor.submit(lambda: 1).result(10) == 1
    executor.shutdown()
    with pytest.raises(ExecutorShutdownError, match="shut down"):
        executor.submit(lambda: 2)
    assert executor.client.status == "closed"


def test_executor_spec_threads_is_none_and_nonsense_is_refused():
    assert executor_from_spec("threads") is None and executor_from_spec(None) is None
    with pytest.raises(ExecutorSpecError, match="'dask-far'"):
        executor_from_spec("dask-far")


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorConnectError, match="tcp://127.0.0.1:9"):
        DaskExecutor.connect("tcp://127.0.0.1:9", timeout=0.5)


# -- the DAG's remote path ---------------------------------------------------------------

def test_remote_path_sends_only_picklable_task_calls(rt):
    executor = PicklingExecutor()
    events = []
    rt.bus.subscribe("*", events.append)
    wf = DAGWorkflow("etl", runtime=rt, executor=executor)
    wf.add_task("a", lambda: 20)
    wf.add_task("b", lambda a: (a + 1, current_task().task_id), depends_on=["a"])
    run = wf.start()
    assert run.wait(5) == {"a": 20, "b": (21, "b")}
    executor.shutdown()
    assert [type(call).__name__ for call in executor.sent] == ["TaskCall", "TaskCall"]
    task_events = [(e.type, e.data.get("task")) for e in events if e.type.startswith("task.")]
    assert task_events == [
        ("task.started", "a"), ("task.completed", "a"), ("task.started", "b"), ("task.completed", "b"),
    ]
    spans = {e.data["name"]: e.data for e in events if e.type == "span.finished"}
    assert spans["task:b"]["parent_id"] == spans["run:etl"]["span_id"]
    assert spans["task:b"]["run_id"] == run.run_id


def test_dag_on_dask_gives_results_and_events_as_on_threads(dask):
    def shape(executor):
        runtime = Runtime(EventBus())
        events = []
        runtime.bus.subscribe("task.*", events.append)
        wf = DAGWorkflow("same", runtime=runtime, executor=executor)
        wf.add_task("a", lambda: [1, 2])
        wf.add_task("b", lambda a: sum(a), depends_on=["a"])
        wf.add_task("c", lambda a: len(a), depends_on=["a"])
        wf.add_task("d", lambda b, c: b * c, depends_on=["b", "c"])
        result = wf.execute()
        runtime.bus.close()
        return result, sorted((e.type, e.data["task"], e.data["attempt"]) for e in events)

    assert shape(dask) == shape(None)


def test_remote_timeout_fails_the_attempt_and_cancels_the_work(dask, rt):
    release = threading.Event()
    wf = DAGWorkflow(runtime=rt, executor=dask, failure_policy="continue")
    wf.add_task("stuck", lambda: release.wait(10), timeout=0.05)
    wf.add_task("other", lambda: "ran")
    try:
        with pytest.raises(WorkflowError) as info:
            wf.execute()
    finally:
        release.set()
    assert isinstance(info.value.errors["stuck"], TaskTimeoutError)
    assert info.value.results == {"other": "ran"}


def test_killed_worker_counts_as_a_failed_attempt_and_is_retried(dask, rt):
    from distributed.scheduler import KilledWorker

    calls = []

    def dies_once():
        calls.append(1)
        if len(calls) == 1:
            raise KilledWorker("dies_once", "tcp://gone", 0)
        return "second time lucky"

    wf = DAGWorkflow(runtime=rt, executor=dask)
    wf.add_task("t", dies_once, retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0))
    assert wf.execute() == {"t": "second time lucky"}


# -- the pool on Dask ---------------------------------------------------------------------

def test_pool_on_dask_finishes_a_thousand_tasks_with_ten_percent_failing(dask, rt):
    def task(i):
        if i % 10 == 0:
            raise ValueError(f"task {i}")
        return i

    with WorkerPool(4, runtime=rt, executor=dask) as pool:
        futures = [pool.submit(task, 0, i) for i in range(1_000)]
        assert pool.wait(60)
        stats = pool.stats()
    assert stats["submitted"] == stats["succeeded"] + stats["failed"] == 1_000
    assert stats["failed"] == 100 and len(rt.dlq.list(source="pool")) == 100
    assert isinstance(futures[0].exception(), ValueError) and futures[1].result() == 1


def test_pool_workers_run_at_once_on_dask(dask, rt):
    barrier = threading.Barrier(4, timeout=10)
    with WorkerPool(4, runtime=rt, executor=dask) as pool:
        futures = [pool.submit(barrier.wait) for _ in range(8)]
        assert pool.wait(30)
    assert sorted(f.result() for f in futures) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_dag_on_a_pool_on_dask_takes_the_remote_path(dask, rt):
    with WorkerPool(2, runtime=rt, executor=dask) as pool:
        wf = DAGWorkflow(runtime=rt, executor=pool)
        wf.add_task("a", lambda: threading.current_thread().name)
        assert pool.remote and "Dask" in wf.execute()["a"]


def test_cancelled_remote_work_fails_its_attempt(rt):
    class Cancelling(PicklingExecutor):
        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(lambda: time.sleep(0.05))
            future.cancel()
            return future

    executor = Cancelling()
    wf = DAGWorkflow(runtime=rt, executor=executor)
    wf.add_task("t", lambda: 1)
    with pytest.raises(WorkflowError) as info:
        wf.execute()
    executor.shutdown()
    assert isinstance(info.value.errors["t"], CancelledError)


# -- the engine ----------------------------------------------------------------------------

def test_engine_runs_workflow_files_on_its_executor(dask, tmp_path):
    (tmp_path / "where.py").write_text(
        "import threading\n"
        "from engine import DAGWorkflow, workflow\n\n"
        "@workflow(name='where')\n"
        "def build():\n"
        "    dag = DAGWorkflow('where')\n"
        "    dag.add_task('thread', lambda: threading.current_thread().name)\n"
        "    return dag\n"
    )
    with Engine(tmp_path, watch=False, schedules=False, check_timeout=None, executor=dask) as engine:
        assert "Dask" in engine.run("where", timeout=10)["thread"]
