"""The durable store against raw sqlite3, and a DAG with the store against memory only.

Two comparisons, each in the same run:

1. Event appends per second into the store (durability ``normal``): through
   ``Store.append`` and through ``bus.publish`` with the store attached,
   each ending with ``flush()`` (every event committed), against raw
   ``sqlite3`` ``executemany`` in batches of 1,000 into the same schema,
   rows built by the same function. Target: the store at least half the raw
   throughput.
2. The DAG benchmark's 10,000-task random DAG (``benchmarks/dag.py``'s
   ``random_dag``, no-op tasks, four workers) with the store attached versus
   in memory only. Target: the store costs at most 2x. Two floors put the
   store's cost in proportion: encoding and inserting the run's events on
   one thread with nothing else running, and `MinimalLog`, the least any
   durable log of every event costs alongside the run on this machine.

Run: ``python benchmarks/store.py`` (``--quick`` for smaller sizes).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import marshal
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from itertools import islice
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Event, EventBus, Runtime  # noqa: E402
from engine.dag.workflow import DAGWorkflow  # noqa: E402
from engine.store import Store  # noqa: E402
from engine.store.event_log import INSERT_EVENT, event_row  # noqa: E402
from engine.store.schema import DB_NAME, connect  # noqa: E402

WORKERS = 4


def _dag_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("dag_benchmark", ROOT / "benchmarks" / "dag.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _events(n: int) -> list[Event]:
    return [
        Event("order.created", {"order": f"o-{i}", "amount": i * 0.5, "items": ["sku-1", "sku-2"], "note": None},
              workflow="bench", run_id="r1")
        for i in range(n)
    ]


def _fresh_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="flowconsole-bench-"))


def raw_inserts(rows: Iterable[tuple[Any, ...]], count: int) -> float:
    """Seconds for raw executemany batches of 1,000 rows into the store's schema
    (``rows`` may be built lazily, inside the timing)."""
    folder = _fresh_dir()
    Store.open(folder).close()  # create the same schema, then write around the store
    conn = connect(folder / DB_NAME, "normal")
    conn.execute("PRAGMA journal_mode = WAL")
    rows = iter(rows)
    gc.collect()
    start = time.perf_counter()
    for _ in range(0, count, 1_000):
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENT, islice(rows, 1_000))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == count
    conn.close()
    shutil.rmtree(folder)
    return elapsed


def raw_appends(events: list[Event]) -> float:
    """Seconds for raw executemany batches of 1,000 events, rows built as the store builds them."""
    return raw_inserts(map(event_row, events), len(events))


def store_appends(events: list[Event], *, through_bus: bool = False) -> float:
    """Seconds for Store.append of every event (or bus.publish with the store attached), then flush."""
    folder = _fresh_dir()
    store = Store.open(folder, durability="normal")
    put = store.append
    if through_bus:
        runtime = Runtime(EventBus())
        store.attach(runtime)
        put = runtime.bus.publish
    gc.collect()
    start = time.perf_counter()
    for event in events:
        put(event)
    store.flush()
    elapsed = time.perf_counter() - start
    assert store.last_seq() == len(events)
    store.close()
    shutil.rmtree(folder)
    return elapsed


def dag_run(
    graph: dict[str, list[str]], noop: Callable[..., Any], with_store: bool
) -> tuple[float, float, int]:
    """One execute() of ``graph``: seconds until it returns, seconds until every
    event is committed too (the same without a store), events stored."""
    folder = _fresh_dir()
    runtime = Runtime(EventBus())
    store = Store.open(folder).attach(runtime) if with_store else None
    workflow = DAGWorkflow("bench", runtime=runtime, max_parallel=WORKERS)
    for node, deps in graph.items():
        workflow.add_task(node, noop, deps)
    gc.collect()
    start = time.perf_counter()
    results = workflow.execute()
    returned = time.perf_counter() - start
    if store is not None:
        store.flush()
    durable = time.perf_counter() - start
    assert len(results) == len(graph)
    stored = 0
    if store is not None:
        stored = store.last_seq()
        store.close()
    runtime.bus.close()
    shutil.rmtree(folder)
    return returned, durable, stored


def dag_events(graph: dict[str, list[str]], noop: Callable[..., Any]) -> list[Event]:
    """The events one in-memory run of ``graph`` publishes."""
    runtime = Runtime(EventBus())
    events: list[Event] = []
    runtime.bus.subscribe("*", events.append)
    workflow = DAGWorkflow("bench", runtime=runtime, max_parallel=WORKERS)
    for node, deps in graph.items():
        workflow.add_task(node, noop, deps)
    workflow.execute()
    runtime.bus.close()
    return events


def floor(events: list[Event]) -> tuple[float, float]:
    """Seconds to encode ``events`` as log rows, and to insert those rows with raw
    executemany batches of 1,000 (no journal, no queue, no threads)."""
    gc.collect()
    start = time.perf_counter()
    rows = [event_row(event) for event in events]
    encoding = time.perf_counter() - start
    return encoding, raw_inserts(rows, len(rows))


class MinimalLog:
    """A floor, not a design: the least a durable log of every event costs here.

    The bus handler only appends the event to a deque; a writer thread
    commits what has queued, every 2 ms, as one marshal-encoded row: no
    JSON, no row per event, no journal, no attempt log, no backpressure.
    """

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("CREATE TABLE batches (first INTEGER PRIMARY KEY, last INTEGER, body BLOB)")
        self._queue: deque[Event] = deque()
        self.handler = self._queue.append
        self._writing = False
        self._closed = False
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        queue, seq = self._queue, 0
        while not self._closed:
            time.sleep(0.002)
            self._writing = True
            batch = [queue.popleft() for _ in range(len(queue))]
            if not batch:
                self._writing = False
                continue
            body = marshal.dumps([(e.type, e.ts, e._correlation, _plain(e.data)) for e in batch])
            self._conn.execute("BEGIN")
            self._conn.execute("INSERT INTO batches VALUES (?, ?, ?)", (seq + 1, seq + len(batch), body))
            self._conn.execute("COMMIT")
            seq += len(batch)
            self._writing = False

    def flush(self) -> None:
        """Return once every event appended so far is committed."""
        while self._queue or self._writing:
            time.sleep(0.0005)

    def close(self) -> None:
        self._closed = True
        self._thread.join()
        self._conn.close()


def _plain(data: Any) -> Any:
    span = getattr(data, "span", None)
    if span is None:
        return dict(data)
    return (span.parent_id, span.name, span.kind, span.start_time, span.end_time, span.status,
            span.status_message, dict(span.attributes))


def minimal_log_run(graph: dict[str, list[str]], noop: Callable[..., Any]) -> float:
    """Seconds for one execute() of ``graph`` until `MinimalLog` has committed every event."""
    folder = _fresh_dir()
    runtime = Runtime(EventBus())
    minimal = MinimalLog(folder / "minimal.db")
    runtime.bus.subscribe("*", minimal.handler)
    workflow = DAGWorkflow("bench", runtime=runtime, max_parallel=WORKERS)
    for node, deps in graph.items():
        workflow.add_task(node, noop, deps)
    gc.collect()
    start = time.perf_counter()
    workflow.execute()
    minimal.flush()
    elapsed = time.perf_counter() - start
    minimal.close()
    runtime.bus.close()
    shutil.rmtree(folder)
    return elapsed


def best(fn: Callable[[], float], repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args(argv)
    n_events = 50_000 if args.quick else 200_000
    repeats = 2 if args.quick else 3

    events = _events(n_events)
    raw = best(lambda: raw_appends(events), repeats)
    ours = best(lambda: store_appends(events), repeats)
    via_bus = best(lambda: store_appends(events, through_bus=True), repeats)
    print(f"event appends, {n_events:,} events, durability=normal (best of {repeats})")
    print(f"  raw sqlite3 executemany x1000   {n_events / raw:>12,.0f} events/s")
    print(f"  Store.append + flush            {n_events / ours:>12,.0f} events/s   throughput {raw / ours * 100:.0f}% of raw")
    print(f"  bus.publish, store attached     {n_events / via_bus:>12,.0f} events/s   throughput {raw / via_bus * 100:.0f}% of raw")
    print(f"  target: store >= 50% of raw throughput -> {'met' if raw / ours >= 0.5 else 'NOT met'}")

    dag = _dag_benchmark()
    graph = dag.random_dag(10_000)
    memory = min(dag_run(graph, dag.noop, False)[0] for _ in range(repeats))
    timings = [dag_run(graph, dag.noop, True) for _ in range(repeats)]
    returned = min(t[0] for t in timings)
    durable = min(t[1] for t in timings)
    stored_events = timings[0][2]
    print(f"\n10,000-task random DAG, {WORKERS} workers, no-op tasks (best of {repeats})")
    print(f"  in memory only                  {memory * 1000:>9.0f} ms   {memory / 10_000 * 1e6:6.1f} us/task")
    print(f"  store attached: run returned    {returned * 1000:>9.0f} ms   {returned / 10_000 * 1e6:6.1f} us/task   ratio {returned / memory:.2f}x")
    print(f"  store attached: all committed   {durable * 1000:>9.0f} ms   {durable / 10_000 * 1e6:6.1f} us/task   ratio {durable / memory:.2f}x   ({stored_events:,} events stored)")
    ratio = durable / memory
    print(f"  target: store (all committed) <= 2x memory -> {'met' if ratio <= 2 else 'NOT met'}")
    floors = [floor(dag_events(graph, dag.noop)) for _ in range(repeats)]
    encoding = min(f[0] for f in floors)
    inserting = min(f[1] for f in floors)
    print("  floor, the same run's events without the store (one thread, nothing else running):")
    print(f"    encode as rows (JSON)         {encoding * 1000:>9.0f} ms   {encoding / memory:.2f}x the in-memory run")
    print(f"    raw executemany x1000         {inserting * 1000:>9.0f} ms   {inserting / memory:.2f}x the in-memory run")
    minimal = best(lambda: minimal_log_run(graph, dag.noop), repeats)
    print("  floor, alongside the run: the least durable log (one marshal row per batch, no journal):")
    print(f"    all committed                 {minimal * 1000:>9.0f} ms   {minimal / memory:.2f}x the in-memory run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
