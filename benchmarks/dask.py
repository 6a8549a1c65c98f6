"""Beyond one machine: the thread executor against Dask, in one run.

1. CPU-bound: a DAG of N tasks (fan-out 1 -> N-2 -> 1) whose middle tasks
   each do about 50 ms of pure-Python arithmetic. ``threads``: the default
   executor (threads in this process, held back by the GIL); ``dask-local``:
   `DaskExecutor.local()` with two single-thread worker processes. Prints
   the wall time of each and the speedup (processes should approach the
   core count). ``dask map`` is the floor on the same cluster: Dask alone
   running the middle tasks (``client.map``, no DAG, no events).
2. Overhead: the same shape with no-op tasks, microseconds per task on
   threads and on the Dask cluster (ours and the ``client.map`` floor), and
   the ratios: ours on Dask against threads, and against ``client.map``
   (the goal: at most 1.3x; the ready tasks go to Dask in one message and
   their results come back in one ``gather`` per batch).

The load average is printed first: on a shared machine other work takes
cores from the worker processes.

The cluster is started once, before anything is timed. Run:
``python benchmarks/dask.py`` (N = 1,000; ``--quick`` for N = 200).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
# This file is called dask.py, so "import dask" in a script of this folder
# finds it first. Take the folder off the path; and when a sibling benchmark
# imported this file *as* dask, stand aside: the real Dask replaces it in
# sys.modules, which the import system then hands to the importer.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if __name__ == "dask":
    del sys.modules["dask"]
    sys.modules["dask"] = importlib.import_module("dask")
sys.path.insert(0, str(HERE.parent))

from engine import DAGWorkflow, EventBus, Runtime  # noqa: E402
from engine.executors.dask import DaskExecutor  # noqa: E402

TASK_SECONDS = 0.05


def burn(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def calibrate(seconds: float) -> int:
    """Iterations of `burn` that take about ``seconds`` here.

    The fastest of several timings: other work on the machine only ever
    makes a timing slower.
    """
    iterations = 200_000
    best = min(_timing(iterations) for _ in range(7))
    return max(1, int(iterations * seconds / best))


def _timing(iterations: int) -> float:
    start = time.perf_counter()
    burn(iterations)
    return time.perf_counter() - start


def fan_out(n: int, work: Callable[..., Any], max_parallel: int, executor: Any) -> DAGWorkflow:
    runtime = Runtime(EventBus())
    events = [0]
    runtime.bus.subscribe("*", lambda e: events.__setitem__(0, events[0] + 1))
    dag = DAGWorkflow(f"bench-{n}", runtime=runtime, max_parallel=max_parallel, executor=executor)
    dag.add_task("source", lambda: 0)
    for i in range(n - 2):
        dag.add_task(f"m{i}", work, depends_on=["source"])
    dag.add_task("sink", lambda **deps: len(deps), depends_on=[f"m{i}" for i in range(n - 2)])
    return dag


def timed(dag: DAGWorkflow) -> float:
    start = time.perf_counter()
    result = dag.execute()
    took = time.perf_counter() - start
    assert result["sink"] == len(dag.tasks) - 2
    return took


def dask_map(dask: DaskExecutor, fn: Callable[..., Any], n: int) -> float:
    start = time.perf_counter()
    futures = dask.client.map(fn, [0] * (n - 2), pure=False)
    dask.client.gather(futures)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 tasks instead of 1,000")
    args = parser.parse_args(argv)
    n = 200 if args.quick else 1_000
    iterations = calibrate(TASK_SECONDS)

    def cpu_task(source: int) -> int:
        return burn(iterations)

    def noop(source: int) -> None:
        return None

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"cores: {os.cpu_count()}   load average: {load}   tasks: {n}   "
          f"CPU task: {iterations:,} iterations (~{TASK_SECONDS * 1000:.0f} ms)")
    start = time.perf_counter()
    dask = DaskExecutor.local(2, threads_per_worker=1, processes=True)
    print(f"dask-local: 2 worker processes x 1 thread, started in {time.perf_counter() - start:.1f} s (not timed below)")
    try:
        # Warm the workers (imports, first unpickling) before timing.
        timed(fan_out(10, cpu_task, 4, dask))

        print(f"\n1. CPU-bound: {n} tasks of ~50 ms pure Python (fan-out 1 -> {n - 2} -> 1; max_parallel 4 on threads, 8 on Dask)")
        threads_s = timed(fan_out(n, cpu_task, 4, None))
        dask_s = timed(fan_out(n, cpu_task, 8, dask))
        floor_s = dask_map(dask, cpu_task, n)
        serial = (n - 2) * TASK_SECONDS
        print(f"   {'executor':<12}{'wall s':>9}{'tasks/s':>10}{'vs serial':>11}")
        for name, took in (("threads", threads_s), ("dask-local", dask_s), ("dask map", floor_s)):
            print(f"   {name:<12}{took:>9.2f}{n / took:>10.1f}{serial / took:>10.2f}x")
        print(f"   speedup dask-local / threads: {threads_s / dask_s:.2f}x"
              f"   (ours on Dask / Dask alone: {dask_s / floor_s:.2f}x the time)")

        print(f"\n2. Overhead: {n} no-op tasks (same shape; max_parallel 4 on threads, 64 on Dask; best of 3)")
        threads_noop = min(timed(fan_out(n, noop, 4, None)) for _ in range(3))
        # Best of three each, taken in turns: other work on a shared machine
        # only ever makes a timing slower, and in turns it slows both alike.
        dask_times, floor_times = [], []
        for _ in range(3):
            dask_times.append(timed(fan_out(n, noop, 64, dask)))
            floor_times.append(dask_map(dask, noop, n))
        dask_noop, floor_noop = min(dask_times), min(floor_times)
        print(f"   {'executor':<12}{'us/task':>10}")
        print(f"   {'threads':<12}{threads_noop / n * 1e6:>10.1f}")
        print(f"   {'dask-local':<12}{dask_noop / n * 1e6:>10.1f}")
        print(f"   {'dask map':<12}{floor_noop / n * 1e6:>10.1f}")
        print(f"   dask-local costs {dask_noop / threads_noop:.0f}x threads per no-op task")
        print(f"   ours on Dask / client.map per no-op task: {dask_noop / floor_noop:.2f}x (goal: <= 1.3x)")
    finally:
        dask.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
