"""The worker pool: the seed's API, futures, priorities, stealing, backpressure, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from engine import (
    DAGWorkflow,
    EventBus,
    ExecutorShutdownError,
    FakeClock,
    QueueFull,
    RetryPolicy,
    Runtime,
    WorkerPool,
)


def pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pool-")]


def test_seed_usage_example_runs_unchanged():
    # Create worker pool
    pool = WorkerPool(num_workers=4)
    pool.start()

    # Submit tasks
    for i in range(20):
        pool.submit(lambda x: x**2, priority=i, x=i)

    # Wait for completion
    pool.wait()
    print(f"Results: {pool.results}")

    assert sorted(pool.results) == [i**2 for i in range(20)]
    pool.shutdown()


def test_ten_thousand_tasks_with_ten_percent_failing_all_finish(rt):
    pool = WorkerPool(4, runtime=rt)
    failures = []
    rt.bus.subscribe("pool.task.failed", failures.append)

    def task(i):
        if i % 10 == 0:
            raise ValueError(f"task {i}")
        return i

    with pool:
        futures = [pool.submit(task, 0, i) for i in range(10_000)]
        assert pool.wait(30)
        stats = pool.stats()
    assert stats["submitted"] == stats["succeeded"] + stats["failed"] + stats["cancelled"] == 10_000
    assert stats["failed"] == 1_000 and len(failures) == 1_000
    assert isinstance(futures[0].exception(), ValueError)
    assert futures[1].result() == 1
    assert len(rt.dlq.list(source="pool")) == 1_000


def test_priority_order_with_one_worker_is_lowest_first_then_fifo(rt):
    order = []
    pool = WorkerPool(1, runtime=rt)
    for i, priority in enumerate([5, 1, 3, 1, 0, 5, 3]):
        pool.submit(lambda i, p: order.append((p, i)), priority, i, priority)
    pool.start()
    pool.wait(5)
    pool.shutdown()
    assert order == [(0, 4), (1, 1), (1, 3), (3, 2), (3, 6), (5, 0), (5, 5)]


def test_priorities_hold_across_workers_when_work_is_stolen(rt):
    # Everything goes on worker 0's queue; worker 1 must steal, and whichever
    # worker takes next always takes the best priority waiting anywhere.
    order = []
    lock = threading.Lock()

    def job(priority):
        with lock:
            order.append(priority)
        time.sleep(0.002)

    pool = WorkerPool(2, runtime=rt)
    for i in range(40):
        pool.submit_with(job, (i % 2,), priority=i % 2, worker=0)
    pool.start()
    pool.wait(10)
    pool.shutdown()
    first_low = order.index(1)
    last_high = len(order) - 1 - order[::-1].index(0)
    # A worker may start its item a moment after the other took the next one:
    # at most one inversion per other worker.
    assert last_high < first_low + 2
    assert pool.steals > 0


def test_stealing_keeps_every_worker_busy_when_all_work_went_to_one(rt):
    threads = set()
    lock = threading.Lock()
    # Each job waits until three others run beside it: the jobs can only
    # finish if all four workers take work from worker 0's queue at once.
    barrier = threading.Barrier(4, timeout=10)

    def job():
        with lock:
            threads.add(threading.get_ident())
        barrier.wait()

    pool = WorkerPool(4, runtime=rt)
    futures = [pool.submit_with(job, worker=0) for _ in range(80)]
    with pool:
        pool.wait(30)
    assert [f.exception() for f in futures] == [None] * 80
    assert len(threads) == 4
    assert pool.steals >= 30


def test_full_pool_raises_queue_full_when_asked_not_to_block(rt):
    events = []
    rt.bus.subscribe("pool.task.rejected", events.append)
    pool = WorkerPool(1, capacity=2, on_full="raise", runtime=rt)
    pool.submit(lambda: 1)
    pool.submit(lambda: 2)
    with pytest.raises(QueueFull) as info:
        pool.submit(lambda: 3)
    assert info.value.capacity == 2
    assert pool.rejections == 1 and len(events) == 1
    pool.start()
    pool.wait(5)
    pool.shutdown()
    assert sorted(pool.results) == [1, 2]


def test_full_pool_blocks_submit_until_there_is_room(rt):
    gate = threading.Event()
    pool = WorkerPool(1, capacity=1, runtime=rt).start()
    pool.submit(gate.wait, 0, 5)  # occupies the worker
    time.sleep(0.05)
    pool.submit(lambda: "queued")  # fills the queue
    released = threading.Timer(0.1, gate.set)
    released.start()
    start = time.perf_counter()
    future = pool.submit(lambda: "waited")
    assert time.perf_counter() - start >= 0.05
    assert future.result(5) == "waited"
    pool.shutdown()
    released.join()


def test_blocking_submit_gives_up_with_queue_full_after_its_timeout(rt):
    gate = threading.Event()
    pool = WorkerPool(1, capacity=1, submit_timeout=0.05, runtime=rt).start()
    pool.submit(gate.wait, 0, 5)
    time.sleep(0.05)
    pool.submit(lambda: None)
    with pytest.raises(QueueFull):
        pool.submit(lambda: None)
    gate.set()
    pool.shutdown()


def test_failed_task_is_retried_without_holding_a_worker_then_succeeds():
    runtime = Runtime(EventBus(), FakeClock())
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("again")
        return "done"

    with WorkerPool(1, runtime=runtime, retry=RetryPolicy(max_attempts=3, base_delay=10, jitter="none")) as pool:
        future = pool.submit(flaky)
        assert future.result(5) == "done"
    assert runtime.clock.sleeps == [10.0, 20.0]
    assert len(runtime.dlq) == 0


def test_a_pool_dead_letter_keeps_when_the_first_and_the_last_attempt_failed():
    runtime = Runtime(EventBus(), FakeClock())
    start = runtime.clock.time()

    def down():
        raise ConnectionError("down")

    policy = RetryPolicy(max_attempts=3, base_delay=0.4, multiplier=1.0, jitter="none")
    with WorkerPool(1, runtime=runtime, retry=policy) as pool:
        assert isinstance(pool.submit(down).exception(5), ConnectionError)
    [letter] = runtime.dlq.list()
    assert (letter.first_failure - start, letter.last_failure - start) == pytest.approx((0.0, 0.8))


def test_shutdown_leaves_no_pool_thread_alive(rt):
    before = len(pool_threads())
    pool = WorkerPool(4, runtime=rt).start()
    for i in range(100):
        pool.submit(lambda: None)
    pool.shutdown(wait=True)
    assert len(pool_threads()) == before


def test_shutdown_with_cancel_pending_cancels_queued_work(rt):
    gate = threading.Event()
    pool = WorkerPool(1, runtime=rt).start()
    pool.submit(gate.wait, 0, 5)
    time.sleep(0.05)
    queued = [pool.submit(lambda: None) for _ in range(5)]
    gate.set()
    pool.shutdown(wait=True, cancel_pending=True)
    assert all(f.cancelled() for f in queued)
    stats = pool.stats()
    assert stats["submitted"] == stats["succeeded"] + stats["failed"] + stats["cancelled"]


def test_submit_after_shutdown_is_a_clear_error(rt):
    pool = WorkerPool(2, runtime=rt).start()
    pool.shutdown()
    with pytest.raises(ExecutorShutdownError, match="shut down"):
        pool.submit(lambda: None)


def test_queue_depth_and_busy_workers_are_gauges(rt):
    gate = threading.Event()
    pool = WorkerPool(2, runtime=rt)
    for _ in range(3):
        pool.submit_with(lambda: None, worker=1)
    assert rt.metrics.gauge_value("pool.queue_depth", {"pool": pool.name, "worker": 1}) == 3
    pool.start()
    pool.submit(gate.wait, 0, 5)
    time.sleep(0.05)
    assert rt.metrics.gauge_value("pool.busy_workers", {"pool": pool.name}) == 1
    gate.set()
    pool.shutdown()


def test_a_dag_can_run_on_a_worker_pool(rt):
    with WorkerPool(2, runtime=rt) as pool:
        wf = DAGWorkflow(runtime=rt, executor=pool)
        wf.add_task("a", lambda: 1)
        wf.add_task("b", lambda a: a + 1, depends_on=["a"])
        assert wf.execute() == {"a": 1, "b": 2}


def test_shutdown_with_cancel_pending_drops_scheduled_retries(rt):
    from concurrent.futures import CancelledError

    pool = WorkerPool(1, runtime=rt, retry=RetryPolicy(max_attempts=2, base_delay=60, jitter="none")).start()
    future = pool.submit(lambda: 1 / 0)
    deadline = time.monotonic() + 5
    while pool.stats()["retrying"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.perf_counter()
    pool.shutdown(wait=True, cancel_pending=True)
    assert time.perf_counter() - start < 30  # did not wait out the 60 s backoff
    with pytest.raises(CancelledError):
        future.result(1)
    assert pool.stats()["cancelled"] == 1


def test_dag_tasks_on_a_pool_carry_the_run_id_in_their_spans(rt):
    events = []
    rt.bus.subscribe("span.finished", events.append)
    with WorkerPool(2, runtime=rt) as pool:
        wf = DAGWorkflow(runtime=rt, executor=pool)
        wf.add_task("a", lambda: 1)
        wf.add_task("b", lambda a: a, depends_on=["a"])
        run = wf.start()
        run.wait(5)
    task_spans = [e.data for e in events if e.data["name"].startswith("task:")]
    assert [s["run_id"] for s in task_spans] == [run.run_id, run.run_id]
