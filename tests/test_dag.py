"""DAG workflows: the seed's API, validation, parallelism, runs and events."""

from __future__ import annotations

import threading
import time

import pytest

from engine import (
    DAGCycleError,
    DAGValidationError,
    DAGWorkflow,
    DuplicateTaskError,
    FlowError,
    NotCallableTaskError,
    Runtime,
    TaskSignatureError,
    TaskStatus,
    UnknownDependencyError,
    current_task,
)


def record(runtime: Runtime) -> list:
    events: list = []
    runtime.bus.subscribe("*", events.append)
    return events


# -- the seed's usage example, unchanged ----------------------------------------

def fetch_data_from_api():
    return [3, 1, 2]


def validate_data(data):
    return [x for x in data if x > 0]


def transform_data(data):
    return sorted(data)


def save_to_db(data):
    return f"db:{len(data)}"


def save_to_cache(data):
    return f"cache:{len(data)}"


def send_notification():
    return "sent"


def test_seed_usage_example_runs_unchanged():
    # Define workflow
    workflow = DAGWorkflow()

    # Add tasks
    workflow.add_task("fetch", lambda: fetch_data_from_api())
    workflow.add_task("validate", lambda fetch: validate_data(fetch), depends_on=["fetch"])
    workflow.add_task("transform", lambda validate: transform_data(validate), depends_on=["validate"])
    workflow.add_task("save_db", lambda transform: save_to_db(transform), depends_on=["transform"])
    workflow.add_task("save_cache", lambda transform: save_to_cache(transform), depends_on=["transform"])
    workflow.add_task("notify", lambda save_db, save_cache: send_notification(), depends_on=["save_db", "save_cache"])

    # Execute
    results = workflow.execute()

    assert results == {
        "fetch": [3, 1, 2], "validate": [3, 1, 2], "transform": [1, 2, 3],
        "save_db": "db:3", "save_cache": "cache:3", "notify": "sent",
    }
    assert workflow.tasks["notify"].status is TaskStatus.COMPLETED
    assert workflow.tasks["transform"].result == [1, 2, 3]


def test_seed_methods_validate_sort_and_ready_tasks(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    wf.add_task("b", lambda a: a, depends_on=["a"])
    wf.add_task("c", lambda a, b: a, depends_on=["a", "b"])
    assert wf.validate() is True
    assert wf.topological_sort() == ["a", "b", "c"]
    assert [t.id for t in wf.get_ready_tasks()] == ["a"]


# -- validation -------------------------------------------------------------------

def test_cycle_is_reported_with_its_path_before_anything_runs(rt):
    ran = []
    wf = DAGWorkflow("cyc", runtime=rt)
    wf.add_task("start", lambda: ran.append("start"))
    wf.add_task("a", lambda c=None, **kw: ran.append("a"), depends_on=["c"])
    wf.add_task("b", lambda a: ran.append("b"), depends_on=["a"])
    wf.add_task("c", lambda b: ran.append("c"), depends_on=["b"])
    with pytest.raises(DAGCycleError) as info:
        wf.execute()
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, FlowError)
    assert err.cycle[0] == err.cycle[-1] and set(err.cycle) == {"a", "b", "c"}
    assert " -> ".join(err.cycle) in str(err)
    assert ran == []


def test_unknown_dependency_names_task_and_dependency(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("load", lambda extract: extract, depends_on=["extract"])
    with pytest.raises(UnknownDependencyError) as info:
        wf.validate()
    assert info.value.task_id == "load" and info.value.dependency == "extract"
    assert "'extract'" in str(info.value)


def test_a_graph_built_in_dependency_order_is_sound_without_a_whole_graph_walk(rt, monkeypatch):
    import engine.dag.workflow

    def walk(*args):
        raise AssertionError("the whole graph was walked")

    monkeypatch.setattr(engine.dag.workflow, "check_graph", walk)
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    wf.add_task("b", lambda a: a + 1, depends_on=["a"])
    assert wf.validate() and wf.execute() == {"a": 1, "b": 2}


def test_a_task_written_straight_into_tasks_is_still_checked(rt):
    from engine.dag.workflow import Task

    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    wf.tasks["b"] = Task(id="b", func=lambda ghost: ghost, depends_on=["ghost"])
    with pytest.raises(UnknownDependencyError) as info:
        wf.validate()
    assert info.value.task_id == "b" and info.value.dependency == "ghost"


def test_duplicate_task_id_is_refused(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    with pytest.raises(DuplicateTaskError) as info:
        wf.add_task("a", lambda: 2)
    assert info.value.task_id == "a"


def test_non_callable_task_is_refused(rt):
    with pytest.raises(NotCallableTaskError, match="'a'"):
        DAGWorkflow(runtime=rt).add_task("a", 42)


def test_function_without_parameter_for_dependency_is_refused(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    with pytest.raises(TaskSignatureError) as info:
        wf.add_task("b", lambda x: x, depends_on=["a"])
    assert info.value.task_id == "b" and info.value.parameters == ["x"]


def test_function_requiring_a_non_dependency_is_refused(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    with pytest.raises(TaskSignatureError, match="'extra'"):
        wf.add_task("b", lambda a, extra: a, depends_on=["a"])


def test_function_taking_var_keywords_accepts_any_dependencies(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: 1)
    wf.add_task("b", lambda: 2)
    wf.add_task("c", lambda **deps: sorted(deps.items()), depends_on=["a", "b"])
    assert wf.execute()["c"] == [("a", 1), ("b", 2)]


def test_bad_failure_policy_is_refused(rt):
    with pytest.raises(DAGValidationError, match="failure_policy"):
        DAGWorkflow(runtime=rt, failure_policy="sometimes")


# -- running ----------------------------------------------------------------------

def test_four_workers_run_four_tasks_at_once(rt):
    # Each task waits at a four-party barrier: the run only finishes if four
    # tasks are in flight together, twice over.
    barrier = threading.Barrier(4, timeout=10)
    wf = DAGWorkflow(runtime=rt, max_parallel=4)
    for i in range(8):
        wf.add_task(f"t{i}", barrier.wait)
    results = wf.execute(max_parallel=4)
    assert sorted(results.values()) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_task_starts_as_soon_as_its_own_dependencies_are_done(rt):
    # No waves: "fast_child" must not wait for the slow sibling of its parent.
    slow_released = threading.Event()
    order = []
    wf = DAGWorkflow(runtime=rt, max_parallel=4)
    wf.add_task("slow", lambda: slow_released.wait(5))
    wf.add_task("fast", lambda: "f")
    wf.add_task("fast_child", lambda fast: (order.append("fast_child"), slow_released.set()), depends_on=["fast"])
    wf.execute()
    assert order == ["fast_child"]


def test_never_more_than_max_parallel_tasks_run_at_once(rt):
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def work():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    wf = DAGWorkflow(runtime=rt, max_parallel=3)
    for i in range(20):
        wf.add_task(f"t{i}", work)
    wf.execute()
    assert peak[0] == 3


def test_each_run_has_its_own_id_states_and_results(rt):
    counter = iter(range(100))
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("n", lambda: next(counter))
    first, second = wf.start(), wf.start()
    first.wait(5)
    second.wait(5)
    assert first.run_id != second.run_id
    assert {first.results["n"], second.results["n"]} == {0, 1}
    assert wf.tasks["n"].status is TaskStatus.COMPLETED


def test_start_returns_a_handle_before_the_run_finishes(rt):
    gate = threading.Event()
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("blocked", lambda: gate.wait(5))
    run = wf.start()
    assert not run.done()
    assert run.states["blocked"] is TaskStatus.RUNNING
    gate.set()
    assert run.wait(5) == {"blocked": True}
    assert run.done()


def test_current_task_gives_the_running_tasks_identity(rt):
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("who", lambda: current_task())
    run = wf.start()
    ctx = run.wait(5)["who"]
    assert (ctx.run_id, ctx.task_id, ctx.attempt) == (run.run_id, "who", 1)
    assert ctx.idempotency_key == f"{run.run_id}:who"
    assert current_task() is None


# -- events and spans -------------------------------------------------------------

def test_run_publishes_started_task_events_and_completed_with_correlation(rt):
    events = record(rt)
    wf = DAGWorkflow("etl", runtime=rt, max_parallel=2)
    wf.add_task("a", lambda: 1)
    wf.add_task("b", lambda a: a + 1, depends_on=["a"])
    run = wf.start()
    run.wait(5)
    dag_events = [e for e in events if e.type.startswith(("run.", "task."))]
    assert dag_events[0].type == "run.started"
    assert dag_events[0].data["tasks"] == {"a": [], "b": ["a"]}
    assert dag_events[0].data["max_parallel"] == 2
    assert dag_events[0].data["failure_policy"] == "fail_fast"
    assert dag_events[-1].type == "run.completed"
    assert all(e.workflow == "etl" and e.run_id == run.run_id for e in dag_events)
    types = [(e.type, e.data.get("task")) for e in dag_events[1:-1]]
    assert types == [
        ("task.started", "a"), ("task.completed", "a"), ("task.started", "b"), ("task.completed", "b"),
    ]
    completed = dag_events[-2]
    assert completed.data["result"] == 2 and completed.data["result_preview"] == "2"
    assert completed.data["attempt"] == 1 and completed.data["duration"] >= 0


def test_run_and_each_attempt_get_spans_with_the_attempt_as_child_of_the_run(rt):
    events = record(rt)
    wf = DAGWorkflow("traced", runtime=rt)
    wf.add_task("a", lambda: 1)
    run = wf.start()
    run.wait(5)
    spans = {e.data["name"]: e.data for e in events if e.type == "span.finished"}
    run_span, task_span = spans["run:traced"], spans["task:a"]
    assert task_span["parent_id"] == run_span["span_id"]
    assert task_span["trace_id"] == run_span["trace_id"]
    assert task_span["attributes"] == {"workflow": "traced", "run_id": run.run_id, "task": "a", "attempt": 1}
    started = next(e for e in events if e.type == "task.started")
    assert started.trace_id == run_span["trace_id"] and started.span_id == task_span["span_id"]


def test_empty_dag_runs_and_completes(rt):
    events = record(rt)
    assert DAGWorkflow(runtime=rt).execute() == {}
    assert [e.type for e in events if e.type.startswith("run.")] == ["run.started", "run.completed"]


def test_rerun_from_an_unknown_task_is_a_clear_error(rt):
    from engine import UnknownTaskError

    wf = DAGWorkflow("known", runtime=rt)
    wf.add_task("a", lambda: 1)
    run = wf.start()
    run.wait(5)
    with pytest.raises(UnknownTaskError, match="'nope'"):
        wf.rerun_from("nope", run)


def test_subscriber_may_read_the_run_while_its_events_are_published(rt):
    gate = threading.Event()
    seen = []
    runs = []
    wf = DAGWorkflow(runtime=rt)
    wf.add_task("a", lambda: gate.wait(5))
    rt.bus.subscribe("task.completed", lambda e: seen.append(runs[0].states["a"]))
    runs.append(wf.start())
    gate.set()
    runs[0].wait(5)
    assert seen == [TaskStatus.COMPLETED]


def test_no_run_thread_outlives_the_run(rt):
    wf = DAGWorkflow("leak-check", runtime=rt)
    for i in range(10):
        wf.add_task(f"t{i}", lambda: None)
    wf.execute()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [t for t in threading.enumerate() if t.name.startswith(("dag-leak-check", "dag-timers-"))]
        if not alive:
            break
        time.sleep(0.01)
    assert alive == []
