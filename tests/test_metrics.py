"""Metrics: the seed's API, labels, errors, Prometheus exposition."""

from __future__ import annotations

import math
import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import MetricError, MetricsCollector, Runtime


@pytest.fixture
def metrics() -> MetricsCollector:
    return MetricsCollector(Runtime())


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_seed_usage_counters_gauges_histograms(metrics: MetricsCollector) -> None:
    metrics.increment("tasks.completed")
    metrics.increment("tasks.completed", 2)
    metrics.gauge("queue.depth", 5)
    metrics.gauge("queue.depth", 3)
    for value in (0.1, 0.2, 0.3):
        metrics.histogram("task.duration", value)
    view = metrics.metrics
    assert view["counters"] == {"tasks.completed": 3}
    assert view["gauges"] == {"queue.depth": 3}
    hist = view["histograms"]["task.duration"]
    assert len(hist) == 3
    assert hist.sum == pytest.approx(0.6)
    assert (hist.min, hist.max) == (0.1, 0.3)


def test_collector_without_runtime_works_as_in_the_seed() -> None:
    collector = MetricsCollector()
    collector.increment("x")
    assert collector.metrics["counters"]["x"] == 1


def test_labels_make_separate_series(metrics: MetricsCollector) -> None:
    metrics.increment("tasks", labels={"workflow": "etl"})
    metrics.increment("tasks", labels={"workflow": "etl"})
    metrics.increment("tasks", labels={"workflow": "billing"})
    assert metrics.counter_value("tasks", {"workflow": "etl"}) == 2
    assert metrics.counter_value("tasks", {"workflow": "billing"}) == 1
    assert metrics.total("tasks") == 3


def test_labelled_series_are_keyed_in_prometheus_notation(metrics: MetricsCollector) -> None:
    metrics.gauge("busy", 2, labels={"pool": "p", "az": "1"})
    assert metrics.metrics["gauges"] == {'busy{az="1",pool="p"}': 2}


def test_label_order_does_not_matter(metrics: MetricsCollector) -> None:
    metrics.increment("x", labels={"a": 1, "b": 2})
    metrics.increment("x", labels={"b": 2, "a": 1})
    assert metrics.counter_value("x", {"a": "1", "b": "2"}) == 2


def test_a_name_cannot_be_two_kinds(metrics: MetricsCollector) -> None:
    metrics.increment("x")
    with pytest.raises(MetricError, match="'x': already used as a counter, cannot record it as a gauge"):
        metrics.gauge("x", 1)


def test_counter_cannot_go_down(metrics: MetricsCollector) -> None:
    with pytest.raises(MetricError, match="only goes up"):
        metrics.increment("x", -1)


@pytest.mark.parametrize("value", ["1", None, math.nan, math.inf, True])
def test_non_numbers_are_rejected(metrics: MetricsCollector, value: object) -> None:
    with pytest.raises(MetricError, match="'h'"):
        metrics.histogram("h", value)  # type: ignore[arg-type]


def test_labels_must_be_a_mapping(metrics: MetricsCollector) -> None:
    with pytest.raises(MetricError, match="labels must be a mapping"):
        metrics.increment("x", labels=["a"])  # type: ignore[arg-type]


def test_adjust_gauge_adds_and_subtracts(metrics: MetricsCollector) -> None:
    metrics.adjust_gauge("active", 1)
    metrics.adjust_gauge("active", 1)
    metrics.adjust_gauge("active", -1)
    assert metrics.gauge_value("active") == 1


def test_concurrent_increments_are_not_lost(metrics: MetricsCollector) -> None:
    def work() -> None:
        for _ in range(10_000):
            metrics.increment("hits", labels={"t": "x"})
            metrics.histogram("lat", 1.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert metrics.counter_value("hits", {"t": "x"}) == 40_000
    assert metrics.get_histogram("lat").count == 40_000


def test_collect_lists_families_with_help_and_series(metrics: MetricsCollector) -> None:
    metrics.describe("lat", "Latency in seconds.")
    metrics.histogram("lat", 2.0, labels={"task": "a"})
    (family,) = metrics.collect()
    assert family["name"] == "lat" and family["kind"] == "histogram"
    assert family["help"] == "Latency in seconds."
    assert family["series"][0]["labels"] == {"task": "a"}
    assert family["series"][0]["count"] == 1


def test_prometheus_text_parses_with_prometheus_client(metrics: MetricsCollector) -> None:
    metrics.increment("tasks.completed", 3, labels={"workflow": "etl"})
    metrics.gauge("queue.depth", 4)
    for i in range(1, 101):
        metrics.histogram("task.duration", i / 100, labels={"workflow": "etl"})
    parsed = families(metrics.to_prometheus(prefix="flowconsole_"))
    counter = parsed["flowconsole_tasks_completed"]
    assert counter.type == "counter"
    assert counter.samples[0].name == "flowconsole_tasks_completed_total"
    assert counter.samples[0].labels == {"workflow": "etl"}
    assert counter.samples[0].value == 3
    assert parsed["flowconsole_queue_depth"].samples[0].value == 4
    summary = parsed["flowconsole_task_duration"]
    assert summary.type == "summary"
    by_name = {(s.name, s.labels.get("quantile")): s.value for s in summary.samples}
    assert by_name[("flowconsole_task_duration_count", None)] == 100
    assert by_name[("flowconsole_task_duration_sum", None)] == pytest.approx(50.5)
    assert by_name[("flowconsole_task_duration", "0.5")] == pytest.approx(0.5, rel=0.02)
    assert by_name[("flowconsole_task_duration", "0.99")] == pytest.approx(0.99, rel=0.02)


def test_prometheus_label_values_are_escaped(metrics: MetricsCollector) -> None:
    awkward = 'say "hi"\\\nbye'
    metrics.increment("x", labels={"note": awkward})
    (sample,) = families(metrics.to_prometheus())["x"].samples
    assert sample.labels == {"note": awkward}


def test_prometheus_names_are_made_legal(metrics: MetricsCollector) -> None:
    metrics.gauge("9lives.per-cat", 1, labels={"cat-name": "tom"})
    text = metrics.to_prometheus()
    (family,) = families(text).values()
    assert family.name == "_9lives_per_cat"
    assert family.samples[0].labels == {"cat_name": "tom"}


def test_prometheus_help_text_is_shown_on_one_line(metrics: MetricsCollector) -> None:
    metrics.describe("x", "How many x.\nReally.")
    metrics.increment("x")
    assert families(metrics.to_prometheus())["x"].documentation == "How many x. Really."


def test_prometheus_output_of_nothing_is_empty(metrics: MetricsCollector) -> None:
    assert metrics.to_prometheus() == ""


def test_names_colliding_after_cleaning_keep_both_kinds(metrics: MetricsCollector) -> None:
    metrics.increment("a.b")
    metrics.gauge("a_b", 2)
    parsed = families(metrics.to_prometheus())
    assert parsed["a_b"].type == "counter"
    assert parsed["a_b_gauge"].samples[0].value == 2


def test_reset_forgets_every_series(metrics: MetricsCollector) -> None:
    metrics.increment("x")
    metrics.reset()
    assert metrics.metrics == {"counters": {}, "gauges": {}, "histograms": {}}
    metrics.gauge("x", 1)
    assert metrics.gauge_value("x") == 1


def test_runtime_metrics_is_a_shared_collector() -> None:
    runtime = Runtime()
    assert runtime.metrics is runtime.metrics
    assert isinstance(runtime.metrics, MetricsCollector)
