"""The bounded histogram: stated relative error, flat memory, edge cases."""

from __future__ import annotations

import random

import pytest

from engine import Histogram, HistogramError


def exact_quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[int(q * (len(sorted_values) - 1))]


@pytest.mark.parametrize(
    "draw",
    [
        lambda r: r.lognormvariate(0, 2),
        lambda r: r.expovariate(10),
        lambda r: r.uniform(1, 1000),
        lambda r: r.paretovariate(1.5),
    ],
    ids=["lognormal", "exponential", "uniform", "pareto"],
)
def test_percentiles_are_within_the_stated_relative_error(draw) -> None:
    rng = random.Random(42)
    values = [draw(rng) for _ in range(50_000)]
    hist = Histogram(relative_accuracy=0.01)
    for v in values:
        hist.record(v)
    values.sort()
    for q in (0.5, 0.9, 0.99):
        exact = exact_quantile(values, q)
        assert abs(hist.quantile(q) - exact) <= 0.01 * exact + 1e-12, q


def test_a_coarser_accuracy_is_still_honoured() -> None:
    rng = random.Random(7)
    values = sorted(rng.uniform(0.001, 10) for _ in range(20_000))
    hist = Histogram(relative_accuracy=0.05)
    for v in values:
        hist.record(v)
    for q in (0.1, 0.5, 0.9, 0.99):
        exact = exact_quantile(values, q)
        assert abs(hist.quantile(q) - exact) <= 0.05 * exact


def test_negative_and_zero_values_are_ordered_correctly() -> None:
    values = [-100.0, -10.0, -1.0, 0.0, 0.0, 1.0, 10.0, 100.0, 1000.0]
    hist = Histogram()
    for v in values:
        hist.record(v)
    assert hist.quantile(0.0) == -100.0
    assert hist.quantile(0.125) == pytest.approx(-10.0, rel=0.01)
    assert hist.quantile(0.375) == 0.0
    assert hist.quantile(0.75) == pytest.approx(10.0, rel=0.01)
    assert hist.quantile(1.0) == 1000.0


def test_count_sum_min_max_are_exact() -> None:
    hist = Histogram()
    for v in (3, 1.5, 7, 2):
        hist.record(v)
    summary = hist.summary()
    assert (summary["count"], summary["sum"], summary["min"], summary["max"]) == (4, 13.5, 1.5, 7.0)
    assert summary["mean"] == pytest.approx(3.375)
    assert set(summary) == {"count", "sum", "min", "max", "mean", "p50", "p90", "p99"}


def test_memory_stays_flat_over_a_million_values() -> None:
    rng = random.Random(1)
    hist = Histogram()
    record = hist.record
    draw = rng.random
    for i in range(100_000):
        record(1 + 999 * i / 99_999)
    buckets_after_100k = hist.bucket_count
    for _ in range(900_000):
        record(1 + 999 * draw())
    assert hist.count == 1_000_000
    # Memory is the buckets: values from 1 to 1000 at 1% need ~350 of them,
    # and ten times as many values need not one more.
    assert hist.bucket_count == buckets_after_100k
    assert hist.bucket_count < 400


def test_bucket_count_never_exceeds_the_limit() -> None:
    hist = Histogram(max_buckets=50)
    for exponent in range(-10, 10):
        for mantissa in range(1, 10):
            hist.record(mantissa * 10.0**exponent)
    assert hist.bucket_count <= 50
    # Collapsing costs only the lowest values their accuracy; the top stays exact.
    assert hist.quantile(0.99) == pytest.approx(7e9, rel=0.01)
    assert hist.max == 9e9


def test_empty_histogram_answers_none() -> None:
    hist = Histogram()
    assert hist.quantile(0.5) is None
    assert hist.min is None and hist.max is None and hist.mean is None
    assert len(hist) == 0


def test_quantile_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(HistogramError, match="between 0 and 1"):
        Histogram().quantile(1.5)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "3"])
def test_bad_values_are_rejected(value: object) -> None:
    with pytest.raises(HistogramError):
        Histogram().record(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"relative_accuracy": 0}, {"relative_accuracy": 1.5}, {"max_buckets": 1}])
def test_bad_configuration_is_rejected(kwargs: dict) -> None:
    with pytest.raises(HistogramError):
        Histogram(**kwargs)


def test_merge_adds_the_other_histogram() -> None:
    a, b = Histogram(), Histogram()
    for v in range(1, 51):
        a.record(v)
    for v in range(51, 101):
        b.record(v)
    a.merge(b)
    assert a.count == 100 and a.max == 100
    assert a.quantile(0.5) == pytest.approx(50, rel=0.01)


def test_merge_refuses_different_accuracy() -> None:
    with pytest.raises(HistogramError, match="different accuracy"):
        Histogram(0.01).merge(Histogram(0.02))


def test_recording_many_at_once_equals_recording_them_one_by_one() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(0, 3) * rng.choice((-1, 1)) for _ in range(5_000)] + [0.0, 7, 1e-15]
    one_by_one, at_once = Histogram(), Histogram()
    for value in values:
        one_by_one.record(value)
    at_once.record_many(values)
    assert at_once.summary() == one_by_one.summary()


def test_recording_many_refuses_a_value_that_is_not_a_number() -> None:
    with pytest.raises(HistogramError, match="numbers"):
        Histogram().record_many([1.0, "2"])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_recording_many_floats_refuses_one_that_is_not_finite(bad: float) -> None:
    histogram = Histogram()
    with pytest.raises(HistogramError, match="finite"):
        histogram.record_many([1.0, bad, 2.0])
    assert histogram.summary()["count"] == 0


def test_recording_many_finite_floats_whose_sum_overflows_keeps_them_all() -> None:
    histogram = Histogram()
    histogram.record_many([1e308, 1e308])
    assert histogram.summary()["count"] == 2


def test_the_seeds_histogram_list_uses_keep_working() -> None:
    from engine import MetricsCollector

    metrics = MetricsCollector()
    for value in (0.3, 0.1, 0.2, 0.2):
        metrics.histogram("latency", value)
    latency = metrics.metrics["histograms"]["latency"]
    assert len(latency) == 4
    assert sum(latency) == pytest.approx(0.8, rel=0.01)
    assert [v for v in latency] == pytest.approx([0.1, 0.2, 0.2, 0.3], rel=0.01)
    assert (min(latency), max(latency)) == (0.1, 0.3)


def test_iterating_a_large_histogram_gives_every_value_within_the_accuracy() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(0, 2) for _ in range(20_000)]
    hist = Histogram()
    hist.record_many(values)
    got = list(hist)
    assert len(got) == len(values)
    assert got == pytest.approx(sorted(values), rel=0.0101)
    assert sum(got) == pytest.approx(hist.sum, rel=0.01)


def test_iterating_empty_and_single_value_histograms() -> None:
    assert list(Histogram()) == []
    one = Histogram()
    one.record(-4.0)
    assert list(one) == [-4.0]
