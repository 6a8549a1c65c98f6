"""The cost of observability: our span against OpenTelemetry's, and a DAG with it on and off.

1. One span (open, three attributes, close, publish), in the same run:
   * ``ours``: ``runtime.tracer.start_span`` on a default `Runtime` (event
     store on, one ``*`` subscriber), so each span ends as a ``span.finished``
     event delivered to a subscriber and kept in the event store.
   * ``otel``: the OpenTelemetry SDK, ``start_as_current_span`` with a
     ``SimpleSpanProcessor`` into an ``InMemorySpanExporter``.
   Target: ours at most a third of OpenTelemetry's cost.

2. The DAG benchmark's 10,000-task random DAG (no-op tasks, four workers,
   fixed seed; ``benchmarks/dag.py``), both with one ``*`` subscriber:
   * ``off``: the tracer disabled (spans get ids for correlation but are not
     kept or published), no metrics subscriber, no log handler.
   * ``on``: every span published as ``span.finished``, the built-in engine
     metrics attached (every event counted, run and task metrics derived
     from their events), and a `BusLogHandler` on the root logger.
   Target: ``on`` at most 30% slower than ``off``. Spans alone and metrics
   alone are measured too, to show where the overhead goes.

Run: ``python benchmarks/observability.py`` (``--quick``: fewer spans, one
DAG repeat).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from engine import Runtime, Tracer  # noqa: E402
from engine.observe.engine_metrics import attach_engine_metrics  # noqa: E402
from engine.observe.logs import attach_bus_logging, uninstall_handler  # noqa: E402

ATTRIBUTES = {"workflow": "bench", "task": "t1", "attempt": 1}
BATCH = 10_000


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    # CPU time of this (single-threaded) loop: other processes on a shared
    # machine change the wall time far more than the work measured here.
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


# -- 1. one span ------------------------------------------------------------------


def ours_spans(n: int) -> Callable[[], None]:
    runtime = Runtime()
    received = [0]

    def subscriber(event: Any) -> None:
        received[0] += 1

    runtime.bus.subscribe("*", subscriber)
    start_span = runtime.tracer.start_span

    def run() -> None:
        for _ in range(n):
            with start_span("task", ATTRIBUTES) as span:
                span.set_attribute("rows", 10)
        assert received[0] >= n

    return run


def otel_spans(n: int) -> Callable[[], None]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    start = tracer.start_as_current_span

    def run() -> None:
        # In batches, clearing the exporter between them, so neither side
        # pays for an ever-growing heap of finished spans.
        for batch in range(0, n, BATCH):
            exporter.clear()
            for _ in range(min(BATCH, n - batch)):
                with start("task", attributes=ATTRIBUTES) as span:
                    span.set_attribute("rows", 10)
        assert len(exporter.get_finished_spans()) == min(BATCH, n)

    return run


# -- 2. the DAG with observability off and on --------------------------------------------


PARTS = ("spans", "metrics", "logs")


def dag_run(graph: dict[str, list[str]], parts: tuple[str, ...] = PARTS) -> tuple[float, float]:
    """One run with the given parts of observability on (all of them: "on"; none: "off")."""
    from dag import WORKERS, noop

    from engine.dag.workflow import DAGWorkflow

    runtime = Runtime(engine_metrics="metrics" in parts)
    count = [0]

    def subscriber(event: Any) -> None:
        count[0] += 1

    runtime.bus.subscribe("*", subscriber)
    metrics = handler = None
    if "metrics" in parts:
        metrics = attach_engine_metrics(runtime)
    if "logs" in parts:
        handler = attach_bus_logging(runtime, level=logging.INFO)
    if "spans" not in parts:
        runtime.install("tracer", Tracer(runtime, enabled=False))
    workflow = DAGWorkflow("bench", runtime=runtime, max_parallel=WORKERS)
    for node, deps in graph.items():
        workflow.add_task(node, noop, deps)
    gc.collect()
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        results = workflow.execute()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        if handler is not None:
            uninstall_handler(handler)
    assert len(results) == len(graph)
    if metrics is not None:
        completed = runtime.metrics.counter_value("flowconsole_tasks_completed", {"workflow": "bench"})
        assert completed == len(graph), completed
        metrics.detach()
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 spans, one DAG run each way")
    parser.add_argument("--spans", type=int, default=None, help="spans per timing (default 100,000)")
    parser.add_argument("--repeats", type=int, default=None, help="best of this many runs")
    args = parser.parse_args(argv)
    n = args.spans or (20_000 if args.quick else 100_000)
    repeats = args.repeats or (2 if args.quick else 5)

    import opentelemetry.sdk.version as otel_version

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, opentelemetry-sdk {otel_version.__version__}, "
          f"{os.cpu_count()} cpus, load average {load:.2f}")
    print(f"\n1. one span: open, 3 attributes + 1 set, close, publish; {n:,} spans, best of {repeats} (cpu time)")
    ours = best_of(ours_spans(n), repeats) / n * 1e6
    otel = best_of(otel_spans(n), repeats) / n * 1e6
    print(f"   ours  {ours:7.2f} µs/span")
    print(f"   otel  {otel:7.2f} µs/span")
    print(f"   ours/otel = {ours / otel:.2f}  (target <= 0.33)  {'OK' if ours / otel <= 1 / 3 else 'MISSED'}")

    try:
        from dag import random_dag
        import engine.dag.workflow  # noqa: F401
    except ImportError as exc:
        print(f"\n2. DAG benchmark skipped: {exc}")
        return 0
    size = 10_000
    dag_repeats = 1 if args.quick else 9
    graph = random_dag(size)
    print(f"\n2. {size:,}-task random DAG, 4 workers, best of {dag_repeats} (variants alternating);"
          " cpu = process time of all threads")
    variants: dict[str, tuple[str, ...]] = {
        "off": (), "on": PARTS, "spans only": ("spans",), "metrics only": ("metrics",),
    }
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for _ in range(dag_repeats):
        for label, parts in variants.items():
            runs[label].append(dag_run(graph, parts))
    best = {label: (min(w for w, _ in r), min(c for _, c in r)) for label, r in runs.items()}
    for label in ("off", "on"):
        wall, cpu = best[label]
        print(f"   {label:<3}  wall {wall * 1e3:7.1f} ms ({wall / size * 1e6:5.1f} µs/task)   "
              f"cpu {cpu * 1e3:7.1f} ms ({cpu / size * 1e6:5.1f} µs/task)")
    wall_overhead = best["on"][0] / best["off"][0] - 1
    cpu_overhead = best["on"][1] / best["off"][1] - 1

    def verdict(overhead: float) -> str:
        return "OK" if overhead <= 0.30 else "MISSED"

    print(f"   overhead (target <= +30%): wall {wall_overhead * 100:+.1f}% {verdict(wall_overhead)}, "
          f"cpu {cpu_overhead * 100:+.1f}% {verdict(cpu_overhead)}")
    print("   where it goes (cpu over off): " + ", ".join(
        f"{label} {(best[label][1] / best['off'][1] - 1) * 100:+.1f}%" for label in ("spans only", "metrics only")
    ))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
