"""The metrics panel state: rates, gauges, histogram percentiles, pool load."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.metrics import COLLECT_EVENT, MetricsPanelState

T0 = 1_700_000_000.0


def families(tasks: int, depth0: float, steals: int):
    return [
        {"name": "tasks_completed_total", "kind": "counter", "help": "", "series": [
            {"labels": {"workflow": "etl"}, "value": tasks}]},
        {"name": "runs_active", "kind": "gauge", "help": "", "series": [{"labels": {}, "value": 2}]},
        {"name": "task_duration_seconds", "kind": "histogram", "help": "", "series": [
            {"labels": {}, "count": tasks, "sum": 1.0, "p50": 0.01, "p90": 0.05, "p99": 0.2, "mean": 0.02}]},
        {"name": "pool_queue_depth", "kind": "gauge", "help": "", "series": [
            {"labels": {"pool": "p", "worker": "0"}, "value": depth0},
            {"labels": {"pool": "p", "worker": "1"}, "value": 1}]},
        {"name": "pool_busy_workers", "kind": "gauge", "help": "", "series": [{"labels": {"pool": "p"}, "value": 3}]},
        {"name": "pool_steals_total", "kind": "counter", "help": "", "series": [{"labels": {"pool": "p"}, "value": steals}]},
    ]


def test_counter_history_is_a_rate_per_second():
    clock = FakeClock(T0)
    state = MetricsPanelState(clock)
    state.apply_collect(families(10, 0, 0))
    clock.advance(2)
    state.apply_collect(families(30, 0, 0))
    series = state.series["tasks_completed_total{workflow=etl}"]
    assert list(series.history) == [10.0]
    assert series.value == 30


def test_gauge_history_is_its_values():
    state = MetricsPanelState(FakeClock(T0))
    state.apply([Event(COLLECT_EVENT, {"families": families(1, 0, 0)}, ts=T0)])
    assert list(state.series["runs_active"].history) == [2.0]


def test_histogram_keeps_its_percentiles():
    state = MetricsPanelState(FakeClock(T0))
    state.apply_collect(families(5, 0, 0))
    summary = state.series["task_duration_seconds"].summary
    assert (summary["p50"], summary["p90"], summary["p99"]) == (0.01, 0.05, 0.2)


def test_pool_load_per_worker_busy_and_steals_per_second():
    clock = FakeClock(T0)
    state = MetricsPanelState(clock)
    state.apply_collect(families(0, 4, 10))
    clock.advance(1)
    state.apply_collect(families(0, 6, 15))
    pool = state.pools["p"]
    assert pool.queue_depths == {"0": 6, "1": 1}
    assert pool.busy == 3
    assert pool.steals_per_second == 5.0


def test_pool_event_with_per_worker_depths_updates_the_pool():
    state = MetricsPanelState(FakeClock(T0))
    assert state.apply([Event("pool.stats", {"pool": "w", "queue_depths": [2, 0, 5], "busy_workers": 2}, ts=T0)])
    assert state.pools["w"].queue_depths == {"0": 2.0, "1": 0.0, "2": 5.0}
