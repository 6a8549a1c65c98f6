"""A DAG run records finished attempts without making workers wait on its lock.

Workers only try the run's lock; an outcome that finds it taken is queued and
settled by whoever holds it, after they release it. These tests pin down that
nothing queued that way is lost.
"""

from __future__ import annotations

import random
import threading
import time

from engine import DAGWorkflow, TaskStatus


def test_an_outcome_queued_while_a_reader_holds_the_lock_is_settled_by_that_reader(rt):
    gate = threading.Event()
    wf = DAGWorkflow(runtime=rt, max_parallel=1)
    wf.add_task("a", lambda: gate.wait(5) and "a")
    wf.add_task("b", lambda a: a + "b", depends_on=["a"])
    run = wf.start()
    with run._lock:  # what a snapshot reader holds
        gate.set()
        deadline = time.monotonic() + 5
        while not run._outcomes and time.monotonic() < deadline:
            time.sleep(0.001)
        assert run._outcomes, "the worker left its outcome in the queue"
    run.states  # a snapshot settles the queue once it lets go of the lock
    assert run.wait(5) == {"a": "a", "b": "ab"}
    assert run.states == {"a": TaskStatus.COMPLETED, "b": TaskStatus.COMPLETED}


def test_a_wide_run_polled_by_readers_runs_every_task_once(rt):
    rng = random.Random(7)
    ran: list[str] = []
    wf = DAGWorkflow(runtime=rt, max_parallel=4)
    for i in range(2_000):
        parents = rng.sample(range(i), min(i, rng.randint(0, 3))) if i else []
        wf.add_task(f"t{i}", lambda _id=f"t{i}", **deps: ran.append(_id), depends_on=[f"t{p}" for p in parents])
    run = wf.start()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            run.states
            run.results

    readers = [threading.Thread(target=poll) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        results = run.wait(60)
    finally:
        stop.set()
        for reader in readers:
            reader.join(5)
    assert len(results) == 2_000
    assert sorted(ran) == sorted(f"t{i}" for i in range(2_000))
