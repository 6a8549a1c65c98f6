"""Built-in engine metrics derived from bus events."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import Event, FakeClock, MetricsCollector, Runtime
from engine.observe.engine_metrics import attach_engine_metrics

P = "flowconsole_"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(clock: FakeClock) -> Runtime:
    return Runtime(clock=clock)


@pytest.fixture
def engine_metrics(runtime: Runtime):
    subscriber = attach_engine_metrics(runtime)
    yield subscriber
    subscriber.detach()


def publish(runtime: Runtime, etype: str, data: dict | None = None, workflow: str | None = "etl") -> None:
    runtime.bus.publish(Event(etype, data or {}, workflow=workflow, run_id="r1"))


def test_runs_are_counted_and_timed(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "run.started")
    publish(runtime, "run.started")
    m = runtime.metrics
    assert m.gauge_value(P + "runs_active", {"workflow": "etl"}) == 2
    publish(runtime, "run.completed", {"duration": 2.0})
    publish(runtime, "run.failed", {"duration": 4.0})
    assert m.counter_value(P + "runs_started", {"workflow": "etl"}) == 2
    assert m.counter_value(P + "runs_completed", {"workflow": "etl"}) == 1
    assert m.counter_value(P + "runs_failed", {"workflow": "etl"}) == 1
    assert m.gauge_value(P + "runs_active", {"workflow": "etl"}) == 0
    hist = m.get_histogram(P + "run_duration_seconds", {"workflow": "etl", "outcome": "completed"})
    assert hist.sum == 2.0


def test_cancelled_runs_count_as_failed(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "run.started")
    publish(runtime, "run.cancelled", {"duration": 1.0})
    assert runtime.metrics.counter_value(P + "runs_failed", {"workflow": "etl"}) == 1


def test_task_durations_come_from_task_completed(runtime: Runtime, engine_metrics) -> None:
    for d in (0.1, 0.2, 0.3):
        publish(runtime, "task.started", {"task": "load", "attempt": 1})
        publish(runtime, "task.completed", {"task": "load", "attempt": 1, "duration": d})
    m = runtime.metrics
    assert m.counter_value(P + "tasks_started", {"workflow": "etl"}) == 3
    assert m.counter_value(P + "tasks_completed", {"workflow": "etl"}) == 3
    hist = m.get_histogram(P + "task_duration_seconds", {"workflow": "etl", "outcome": "completed"})
    assert hist.count == 3 and hist.sum == pytest.approx(0.6)


def test_task_durations_per_task_when_asked(runtime: Runtime) -> None:
    runtime.metrics.engine_metrics.detach()
    subscriber = attach_engine_metrics(runtime, per_task=True)
    try:
        publish(runtime, "task.completed", {"task": "load", "duration": 0.5})
    finally:
        subscriber.detach()
    labels = {"workflow": "etl", "outcome": "completed", "task": "load"}
    assert runtime.metrics.get_histogram(P + "task_duration_seconds", labels).count == 1


def test_failed_tasks_and_retries_are_counted(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "task.retrying", {"task": "x", "attempt": 1})
    publish(runtime, "retry.scheduled", {"unit": "x", "attempt": 2})
    publish(runtime, "task.failed", {"task": "x", "attempt": 3, "duration": 0.1})
    m = runtime.metrics
    assert m.counter_value(P + "retries", {"workflow": "etl"}) == 2
    assert m.counter_value(P + "tasks_failed", {"workflow": "etl"}) == 1


def test_dead_letters_are_counted_and_tracked_open(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "dlq.added", {"source": "task"})
    publish(runtime, "dlq.added", {"source": "handler"})
    publish(runtime, "dlq.added", {"source": "task"})
    publish(runtime, "dlq.resolved", {"source": "task"})
    publish(runtime, "dlq.evicted", {"source": "task", "status": "dead"})
    m = runtime.metrics
    assert m.counter_value(P + "dead_letters", {"source": "task"}) == 2
    assert m.gauge_value(P + "dead_letters_open") == 1


def test_breaker_events_set_the_state_gauge(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "breaker.opened", {"breaker": "payments"})
    assert runtime.metrics.gauge_value(P + "breaker_state", {"breaker": "payments"}) == 2
    publish(runtime, "breaker.half_opened", {"breaker": "payments"})
    assert runtime.metrics.gauge_value(P + "breaker_state", {"breaker": "payments"}) == 1
    publish(runtime, "breaker.forced", {"breaker": "payments", "state": "closed"})
    assert runtime.metrics.gauge_value(P + "breaker_state", {"breaker": "payments"}) == 0


def test_pool_events_set_pool_gauges(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "pool.stats", {"pool": "workers", "queue_depth": 7, "busy_workers": 3, "workers": 4})
    m = runtime.metrics
    assert m.gauge_value(P + "pool_queue_depth", {"pool": "workers"}) == 7
    assert m.gauge_value(P + "pool_busy_workers", {"pool": "workers"}) == 3
    assert m.gauge_value(P + "pool_workers", {"pool": "workers"}) == 4


def test_every_event_is_counted_by_type(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "anything.happened")
    publish(runtime, "anything.happened")
    assert runtime.metrics.counter_value(P + "events", {"type": "anything.happened"}) == 2


def test_replayed_events_are_not_counted_again(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "task.started")
    runtime.bus.replay()
    assert runtime.metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 1


def test_events_per_second_is_the_rate_over_a_window_of_at_least_a_second(
    runtime: Runtime, clock: FakeClock, engine_metrics
) -> None:
    rate = P + "events_per_second"
    for _ in range(5):
        publish(runtime, "tick")
    assert runtime.metrics.gauge_value(rate) is None  # the first read opens the window
    for _ in range(10):
        publish(runtime, "tick")
    clock.advance(0.5)
    assert runtime.metrics.gauge_value(rate) is None
    clock.advance(0.5)
    assert runtime.metrics.gauge_value(rate) == pytest.approx(10.0)


def test_handler_errors_are_counted(runtime: Runtime, engine_metrics) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("no")

    runtime.bus.subscribe("boom", broken)
    publish(runtime, "boom")
    assert runtime.metrics.counter_value(P + "handler_errors", {"event_type": "boom"}) == 1


def test_runtime_metrics_derive_engine_metrics_by_themselves(runtime: Runtime) -> None:
    metrics = runtime.metrics
    publish(runtime, "task.started")
    assert metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 1


def test_attaching_twice_counts_once(runtime: Runtime) -> None:
    first = attach_engine_metrics(runtime)
    assert attach_engine_metrics(runtime) is first
    publish(runtime, "task.started")
    assert runtime.metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 1


def test_a_standalone_collector_derives_nothing() -> None:
    collector = MetricsCollector()
    assert collector.engine_metrics is None


def test_detach_stops_counting(runtime: Runtime) -> None:
    subscriber = attach_engine_metrics(runtime)
    subscriber.detach()
    publish(runtime, "task.started")
    assert runtime.metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 0


def test_engine_metrics_export_parses_with_help(runtime: Runtime, engine_metrics) -> None:
    publish(runtime, "run.started")
    publish(runtime, "task.completed", {"duration": 0.2})
    families = {f.name: f for f in text_string_to_metric_families(runtime.metrics.to_prometheus())}
    assert families[P + "runs_started"].documentation == "Workflow runs started."
    assert families[P + "task_duration_seconds"].type == "summary"


def test_a_real_dag_run_feeds_the_metrics(runtime: Runtime, engine_metrics) -> None:
    dag = pytest.importorskip("engine.dag")
    workflow = dag.DAGWorkflow("etl", runtime=runtime, max_parallel=2)
    workflow.add_task("extract", lambda: 1)
    workflow.add_task("transform", lambda extract: extract + 1, ["extract"])
    workflow.add_task("load", lambda transform: transform, ["transform"])
    workflow.execute()
    m = runtime.metrics
    assert m.counter_value(P + "runs_completed", {"workflow": "etl"}) == 1
    assert m.counter_value(P + "tasks_completed", {"workflow": "etl"}) == 3
    assert m.get_histogram(P + "task_duration_seconds", {"workflow": "etl", "outcome": "completed"}).count == 3


def test_breaker_rejections_and_state_are_read_from_the_breakers(runtime: Runtime, engine_metrics) -> None:
    breaker = runtime.breakers.get_or_create("payments", failure_threshold=1, timeout=60)

    def down() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        breaker.call(down)
    for _ in range(3):
        with pytest.raises(Exception, match="OPEN"):
            breaker.call(down)
    runtime.metrics.collect()
    runtime.metrics.collect()
    labels = {"breaker": "payments"}
    assert runtime.metrics.counter_value(P + "breaker_rejections", labels) == 3
    assert runtime.metrics.gauge_value(P + "breaker_state", labels) == 2


def test_task_events_wait_in_a_batch_until_the_metrics_are_read(runtime: Runtime, engine_metrics) -> None:
    started = dict(engine_metrics._subscriptions)["task.started"]
    publish(runtime, "task.started")
    assert started.pending == 1
    assert runtime.metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 1
    assert started.pending == 0


def test_events_nothing_is_derived_from_are_counted_without_reaching_the_metrics(
    runtime: Runtime, engine_metrics
) -> None:
    publish(runtime, "span.finished")
    publish(runtime, "log.record")
    assert all(subscription.pending == 0 for _, subscription in engine_metrics._subscriptions)
    assert runtime.metrics.counter_value(P + "events", {"type": "span.finished"}) == 1
    assert runtime.metrics.counter_value(P + "events", {"type": "log.record"}) == 1


def test_events_published_before_the_metrics_attach_are_not_counted(runtime: Runtime) -> None:
    collector = MetricsCollector(runtime, engine_metrics=False)
    publish(runtime, "tick")
    subscriber = attach_engine_metrics(runtime, collector)
    publish(runtime, "tick")
    assert collector.counter_value(P + "events", {"type": "tick"}) == 1
    subscriber.detach()


def test_a_read_sees_every_event_published_before_it(runtime: Runtime, engine_metrics) -> None:
    for i in range(10):
        publish(runtime, "task.started", {"task": f"t{i}", "attempt": 1})
        publish(runtime, "task.completed", {"task": f"t{i}", "attempt": 1, "duration": 0.5})
    assert runtime.metrics.counter_value(P + "tasks_started", {"workflow": "etl"}) == 10
    assert runtime.metrics.counter_value(P + "tasks_completed", {"workflow": "etl"}) == 10
    histogram = runtime.metrics.get_histogram(
        P + "task_duration_seconds", {"workflow": "etl", "outcome": "completed"}
    )
    assert (histogram.count, histogram.sum) == (10, 5.0)


def test_events_queued_when_metrics_detach_are_still_counted(runtime: Runtime) -> None:
    subscriber = attach_engine_metrics(runtime)
    publish(runtime, "tick")
    publish(runtime, "tick")
    subscriber.detach()
    assert runtime.metrics.counter_value(P + "events", {"type": "tick"}) == 2


def test_engine_metrics_count_from_the_runtimes_first_event() -> None:
    from engine.dag import DAGWorkflow

    runtime = Runtime(clock=FakeClock())
    dag = DAGWorkflow("early", runtime=runtime)
    dag.add_task("only", lambda: 1)
    dag.execute()
    assert runtime.metrics.counter_value(P + "runs_completed", {"workflow": "early"}) == 1
    assert runtime.metrics.counter_value(P + "tasks_completed", {"workflow": "early"}) == 1


def test_a_runtime_made_without_engine_metrics_derives_none_until_asked() -> None:
    runtime = Runtime(clock=FakeClock(), engine_metrics=False)
    publish(runtime, "run.started")
    assert runtime.installed("metrics") is None
