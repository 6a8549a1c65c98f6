"""DAG scheduling overhead: flowconsole against the floor and its peers, in one run.

No-op tasks in three shapes (fan-out 1 -> N -> 1, a chain of N, a random DAG
of N nodes with up to 3 earlier parents each, fixed seed), N = 1,000 / 10,000
/ 100,000, four workers. Compared in the same run:

* ``raw``: a raw ThreadPoolExecutor, submit N no-ops and wait (the floor; it
  ignores dependencies).
* ``serial``: no threads at all: one loop over the graph in dependency order
  (in-degree counters) calling each no-op with its dependencies' results.
  What any scheduler written in Python pays for the graph alone.
* ``graphlib``: a reference scheduler, graphlib.TopologicalSorter +
  ThreadPoolExecutor + a completion queue, passing dependency results as
  keyword arguments like ours does.
* ``dask``: ``dask.threaded.get`` on the same graph.
* ``ours``: ``DAGWorkflow.execute`` with events flowing to one subscriber.

Prints microseconds per task and the ratios the issue sets targets for. The
100k/10k scaling is printed for the reference and the raw floor too: on a
machine whose caches a 100,000-task working set overflows, even submitting
no-ops to a ThreadPoolExecutor costs more per task at 100k.
Run: ``python benchmarks/dag.py`` (``--quick`` for 1k and 10k only).
"""

from __future__ import annotations

import argparse
import gc
import os
import graphlib
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import SimpleQueue
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dask.threaded  # noqa: E402

from engine import Runtime  # noqa: E402
from engine.dag.workflow import DAGWorkflow  # noqa: E402

WORKERS = 4
Graph = dict[str, list[str]]


def noop(**deps: Any) -> None:
    return None


def noop_positional(*deps: Any) -> None:
    return None


# -- shapes -------------------------------------------------------------------


def fan_out(n: int) -> Graph:
    middle = [f"m{i}" for i in range(n - 2)]
    graph: Graph = {"source": []}
    graph.update({m: ["source"] for m in middle})
    graph["sink"] = middle
    return graph


def chain(n: int) -> Graph:
    return {f"t{i}": ([f"t{i - 1}"] if i else []) for i in range(n)}


def random_dag(n: int, seed: int = 42) -> Graph:
    rng = random.Random(seed)
    graph: Graph = {}
    for i in range(n):
        parents = rng.sample(range(i), min(i, rng.randint(0, 3))) if i else []
        graph[f"t{i}"] = [f"t{p}" for p in sorted(parents)]
    return graph


SHAPES: dict[str, Callable[[int], Graph]] = {"fan-out": fan_out, "chain": chain, "random": random_dag}


# -- runners --------------------------------------------------------------------


def run_raw(graph: Graph) -> None:
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(noop) for _ in graph]
        for future in futures:
            future.result()


def run_serial(graph: Graph) -> dict[str, Any]:
    remaining = {node: len(deps) for node, deps in graph.items()}
    children: dict[str, list[str]] = {node: [] for node in graph}
    for node, deps in graph.items():
        for dep in deps:
            children[dep].append(node)
    results: dict[str, Any] = {}
    ready = [node for node, n in remaining.items() if n == 0]
    while ready:
        node = ready.pop()
        results[node] = noop(**{dep: results[dep] for dep in graph[node]})
        for child in children[node]:
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    return results


def run_graphlib(graph: Graph) -> dict[str, Any]:
    """The reference: graphlib + ThreadPoolExecutor + a completion queue."""
    results: dict[str, Any] = {}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    done: SimpleQueue = SimpleQueue()

    def run_one(node: str, kwargs: dict[str, Any]) -> tuple[str, Any]:
        return node, noop(**kwargs)

    with ThreadPoolExecutor(WORKERS) as pool:
        while sorter.is_active():
            for node in sorter.get_ready():
                kwargs = {dep: results[dep] for dep in graph[node]}
                pool.submit(run_one, node, kwargs).add_done_callback(done.put)
            node, value = done.get().result()
            results[node] = value
            sorter.done(node)
    return results


def run_dask(graph: Graph) -> Any:
    dsk = {node: (noop_positional, *deps) for node, deps in graph.items()}
    return dask.threaded.get(dsk, list(graph), num_workers=WORKERS)


def build_ours(graph: Graph) -> tuple[DAGWorkflow, list[int]]:
    runtime = Runtime()
    count = [0]

    def subscriber(event: Any) -> None:
        count[0] += 1

    runtime.bus.subscribe("*", subscriber)
    workflow = DAGWorkflow("bench", runtime=runtime, max_parallel=WORKERS)
    for node, deps in graph.items():
        workflow.add_task(node, noop, deps)
    return workflow, count


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best wall-clock seconds and best process CPU seconds over ``repeats`` runs."""
    best = best_cpu = float("inf")
    for _ in range(repeats):
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best, best_cpu


def measure(shape: str, n: int, repeats: int) -> dict[str, float]:
    graph = SHAPES[shape](n)
    out: dict[str, float] = {}
    out["raw"], out["raw_cpu"] = timed(lambda: run_raw(graph), repeats)
    out["serial"], _ = timed(lambda: run_serial(graph), repeats)
    out["graphlib"], out["graphlib_cpu"] = timed(lambda: run_graphlib(graph), repeats)
    out["dask"], out["dask_cpu"] = timed(lambda: run_dask(graph), repeats)
    best = best_cpu = float("inf")
    events = 0
    for _ in range(repeats):
        workflow, count = build_ours(graph)
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        results = workflow.execute()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        events = count[0]
        assert len(results) == n
    out["ours"], out["ours_cpu"] = best, best_cpu
    out["events"] = events
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 tasks only, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs, at every size alike")
    args = parser.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    print(f"python {sys.version.split()[0]}, dask {dask.__version__}, {WORKERS} workers, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("wall-clock µs per task (best of runs); 'cpu' columns: process CPU µs per task,")
    print("which a loaded machine distorts less than wall-clock time")
    header = (
        f"{'shape':<8} {'N':>7} {'raw':>7} {'serial':>7} {'graphlib':>9} {'dask':>7} {'ours':>7} "
        f"{'ours/graphlib':>14} {'dask/ours':>10} {'cpu:graphlib':>13} {'cpu:ours':>9} {'cpu ratio':>10} {'events':>8}"
    )
    print(header)
    print("-" * len(header))
    totals: dict[tuple[str, int], float] = {}
    reference: dict[tuple[str, int], float] = {}
    floor: dict[tuple[str, int], float] = {}
    serial: dict[tuple[str, int], float] = {}
    for shape in SHAPES:
        for n in sizes:
            repeats = 1 if args.quick else args.repeats
            r = measure(shape, n, repeats)
            us = {k: r[k] / n * 1e6 for k in ("raw", "serial", "graphlib", "dask", "ours")}
            totals[(shape, n)] = r["ours"]
            reference[(shape, n)] = r["graphlib"]
            floor[(shape, n)] = r["raw"]
            serial[(shape, n)] = r["serial"]
            print(
                f"{shape:<8} {n:>7} {us['raw']:>7.1f} {us['serial']:>7.1f} {us['graphlib']:>9.1f} {us['dask']:>7.1f} "
                f"{us['ours']:>7.1f} {r['ours'] / r['graphlib']:>13.2f}x {r['dask'] / r['ours']:>9.2f}x "
                f"{r['graphlib_cpu'] / n * 1e6:>13.1f} {r['ours_cpu'] / n * 1e6:>9.1f} "
                f"{r['ours_cpu'] / r['graphlib_cpu']:>9.2f}x {int(r['events']):>8}"
            )
    print()
    print("targets on the 10,000-task random DAG: ours/graphlib <= 1.5x, dask/ours >= 3x")
    if (("random", 100_000)) in totals:
        for shape in SHAPES:
            ratio = totals[(shape, 100_000)] / totals[(shape, 10_000)]
            peer = reference[(shape, 100_000)] / reference[(shape, 10_000)]
            raw = floor[(shape, 100_000)] / floor[(shape, 10_000)]
            alone = serial[(shape, 100_000)] / serial[(shape, 10_000)]
            print(f"{shape:<8} 100k cost / 10k cost = {ratio:.1f}x (target <= 11x); "
                  f"graphlib reference: {peer:.1f}x; raw executor floor: {raw:.1f}x; "
                  f"serial loop: {alone:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
