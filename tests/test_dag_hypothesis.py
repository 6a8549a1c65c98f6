"""Random DAGs against graphlib: valid orderings, every task run exactly once."""

from __future__ import annotations

import graphlib
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import DAGWorkflow, EventBus, Runtime


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    graph = {}
    for i in range(n):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        graph[f"t{i}"] = [f"t{p}" for p in parents]
    return graph


@settings(max_examples=40, deadline=None)
@given(graph=dags(), workers=st.integers(1, 4))
def test_random_dag_runs_each_task_once_in_a_valid_order(graph, workers):
    runtime = Runtime(EventBus())
    lock = threading.Lock()
    order: list[str] = []

    def make(tid):
        def task(**deps):
            with lock:
                order.append(tid)
            return tid
        return task

    wf = DAGWorkflow(runtime=runtime, max_parallel=workers)
    for tid, deps in graph.items():
        wf.add_task(tid, make(tid), deps)
    results = wf.execute()

    assert results == {tid: tid for tid in graph}
    assert sorted(order) == sorted(graph)  # exactly once each
    # The order the tasks ran in is one graphlib accepts: each task was
    # ready in graphlib's eyes when it started.
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    ready = set(sorter.get_ready())
    for tid in order:
        assert tid in ready, f"{tid} ran before its dependencies {graph[tid]}"
        ready.remove(tid)
        sorter.done(tid)
        ready.update(sorter.get_ready())
    assert not sorter.is_active()
