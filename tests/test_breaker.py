"""Circuit breakers: every rule driven by a fake clock."""

from __future__ import annotations

import pytest

from engine import (
    BreakerConfigError,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    FlowError,
    Span,
    Tracer,
)


class Boom(Exception):
    pass


def fail() -> None:
    raise Boom("down")


def ok() -> str:
    return "ok"


def breaker(runtime, **config) -> CircuitBreaker:
    config.setdefault("name", "svc")
    return CircuitBreaker(runtime=runtime, **config)


def fail_times(b: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            b.call(fail)


def types(runtime, prefix: str = "breaker.") -> list[str]:
    return [e.type for e in runtime.bus.event_store if e.type.startswith(prefix)]


# -- consecutive mode (the seed's) -------------------------------------------


def test_breaker_opens_after_failure_threshold_consecutive_failures(runtime) -> None:
    b = breaker(runtime, failure_threshold=3)
    fail_times(b, 2)
    assert b.state is CircuitState.CLOSED
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN
    assert types(runtime) == ["breaker.opened"]


def test_a_success_resets_the_consecutive_failure_count(runtime) -> None:
    b = breaker(runtime, failure_threshold=3)
    fail_times(b, 2)
    b.call(ok)
    fail_times(b, 2)
    assert b.state is CircuitState.CLOSED and b.failures == 2


def test_open_breaker_rejects_with_name_and_seconds_until_retry(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=10)
    fail_times(b, 1)
    fake_clock.advance(4)
    called = []
    with pytest.raises(CircuitOpenError) as info:
        b.call(called.append, 1)
    assert called == []
    assert info.value.breaker == "svc"
    assert info.value.retry_after == pytest.approx(6)
    assert isinstance(info.value, FlowError)


def test_breaker_goes_half_open_once_the_timeout_has_passed(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=10)
    fail_times(b, 1)
    fake_clock.advance(9.9)
    assert b.state is CircuitState.OPEN
    fake_clock.advance(0.1)
    assert b.state is CircuitState.HALF_OPEN
    assert types(runtime) == ["breaker.opened", "breaker.half_opened"]


def test_a_successful_probe_closes_the_breaker(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=10)
    fail_times(b, 1)
    fake_clock.advance(10)
    assert b.call(ok) == "ok"
    assert b.state is CircuitState.CLOSED and b.failures == 0
    assert types(runtime)[-1] == "breaker.closed"


def test_a_failed_probe_reopens_the_breaker_for_another_timeout(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=10)
    fail_times(b, 1)
    fake_clock.advance(10)
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as info:
        b.call(ok)
    assert info.value.retry_after == pytest.approx(10)
    opened = [e for e in runtime.bus.event_store if e.type == "breaker.opened"]
    assert opened[-1].data["reason"] == "probe_failed"


def test_half_open_admits_exactly_half_open_max_calls_probes(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=1, half_open_max_calls=2)
    fail_times(b, 1)
    fake_clock.advance(1)
    admitted: list[str] = []

    def probe() -> str:
        # While this probe runs, no further call may get in beyond the second.
        admitted.append("in")
        if len(admitted) == 1:
            b.call(probe)
            with pytest.raises(CircuitOpenError):
                b.call(probe)
        return "ok"

    b.call(probe)
    assert admitted == ["in", "in"]
    assert b.state is CircuitState.CLOSED


def test_half_open_needs_every_probe_to_succeed_before_closing(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=1, timeout=1, half_open_max_calls=3)
    fail_times(b, 1)
    fake_clock.advance(1)
    b.call(ok)
    b.call(ok)
    assert b.state is CircuitState.HALF_OPEN
    b.call(ok)
    assert b.state is CircuitState.CLOSED


def test_outcomes_of_calls_admitted_before_a_state_change_do_not_move_the_new_state(runtime) -> None:
    b = breaker(runtime, failure_threshold=1)

    def trip_then_succeed() -> str:
        fail_times(b, 1)
        return "late"

    assert b.call(trip_then_succeed) == "late"
    assert b.state is CircuitState.OPEN


def test_ignored_exceptions_pass_through_without_counting(runtime) -> None:
    b = breaker(runtime, failure_threshold=1, ignore_on=(KeyError,))
    with pytest.raises(KeyError):
        b.call(lambda: {}["missing"])
    assert b.state is CircuitState.CLOSED
    assert b.snapshot()["ignored"] == 1


def test_exceptions_outside_record_on_do_not_count(runtime) -> None:
    b = breaker(runtime, failure_threshold=1, record_on=(Boom,))
    with pytest.raises(ValueError):
        b.call(lambda: int("x"))
    assert b.state is CircuitState.CLOSED


# -- failure-rate mode --------------------------------------------------------


def test_rate_mode_computes_no_rate_before_minimum_calls(runtime) -> None:
    b = breaker(runtime, failure_rate_threshold=50, sliding_window_size=10, minimum_calls=4)
    fail_times(b, 3)
    assert b.state is CircuitState.CLOSED
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN
    assert [e.data["reason"] for e in runtime.bus.event_store if e.type == "breaker.opened"] == ["failure_rate"]


def test_rate_mode_opens_when_the_failure_rate_reaches_the_threshold(runtime) -> None:
    b = breaker(runtime, failure_rate_threshold=50, sliding_window_size=4, minimum_calls=4)
    b.call(ok)
    b.call(ok)
    fail_times(b, 1)
    assert b.state is CircuitState.CLOSED
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN
    opened = [e for e in runtime.bus.event_store if e.type == "breaker.opened"][0]
    assert opened.data["failure_rate"] == 50.0


def test_rate_mode_window_forgets_calls_older_than_its_size(runtime) -> None:
    b = breaker(runtime, failure_rate_threshold=60, sliding_window_size=4, minimum_calls=4)
    fail_times(b, 2)
    for _ in range(6):
        b.call(ok)
    fail_times(b, 2)
    assert b.state is CircuitState.CLOSED
    assert b.snapshot()["failure_rate"] == 50.0


def test_rate_mode_opens_on_slow_call_rate(runtime, fake_clock) -> None:
    b = breaker(
        runtime, failure_rate_threshold=50, sliding_window_size=2, minimum_calls=2,
        slow_call_duration=1.0, slow_call_rate_threshold=100,
    )

    def slow() -> str:
        fake_clock.advance(1.5)
        return "slow"

    b.call(slow)
    assert b.state is CircuitState.CLOSED
    b.call(slow)
    assert b.state is CircuitState.OPEN
    reasons = [e.data["reason"] for e in runtime.bus.event_store if e.type == "breaker.opened"]
    assert reasons == ["slow_call_rate"]
    assert b.snapshot()["slow_calls"] == 2


def test_rate_mode_half_open_decides_on_the_probes_failure_rate(runtime, fake_clock) -> None:
    b = breaker(
        runtime, failure_rate_threshold=50, sliding_window_size=2, minimum_calls=2,
        half_open_max_calls=4, timeout=5,
    )
    fail_times(b, 2)
    fake_clock.advance(5)
    b.call(ok)
    fail_times(b, 1)
    b.call(ok)
    assert b.state is CircuitState.HALF_OPEN
    b.call(ok)
    assert b.state is CircuitState.CLOSED


def test_rate_mode_half_open_reopens_when_probes_fail_too_often(runtime, fake_clock) -> None:
    b = breaker(
        runtime, failure_rate_threshold=50, sliding_window_size=2, minimum_calls=2,
        half_open_max_calls=2, timeout=5,
    )
    fail_times(b, 2)
    fake_clock.advance(5)
    b.call(ok)
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN


# -- fallbacks -----------------------------------------------------------------


def test_a_fallback_value_answers_for_a_failed_call_and_is_evented(runtime) -> None:
    b = breaker(runtime, failure_threshold=5)
    assert b.call(fail, fallback="cached") == "cached"
    used = [e for e in runtime.bus.event_store if e.type == "fallback.used"]
    assert [(e.data["source"], e.data["unit"], e.data["reason"], e.data["error_type"]) for e in used] == [
        ("breaker", "svc", "error", "Boom"),
    ]


def test_a_callable_fallback_gets_the_rejection_when_open(runtime) -> None:
    b = breaker(runtime, failure_threshold=1)
    fail_times(b, 1)
    seen: list[BaseException] = []
    assert b.call(ok, fallback=lambda error: seen.append(error) or "degraded") == "degraded"
    assert isinstance(seen[0], CircuitOpenError)
    assert b.snapshot()["fallbacks"] == 1


def test_the_breakers_default_fallback_is_used_when_a_call_gives_none(runtime) -> None:
    b = breaker(runtime, failure_threshold=1, fallback=None)
    assert b.call(fail) is None
    assert b.call(ok) is None  # open now: rejected, answered by the fallback


# -- operator overrides ----------------------------------------------------------


def test_force_open_rejects_until_reset_and_is_audited(runtime, fake_clock) -> None:
    b = breaker(runtime, timeout=1)
    b.force_open(actor="alice", reason="maintenance")
    fake_clock.advance(100)
    with pytest.raises(CircuitOpenError) as info:
        b.call(ok)
    assert info.value.retry_after is None
    assert b.state is CircuitState.OPEN
    b.reset(actor="alice", reason="done")
    assert b.call(ok) == "ok"
    forced = [e.data for e in runtime.bus.event_store if e.type == "breaker.forced"]
    assert [(d["action"], d["actor"], d["reason"], d["state"]) for d in forced] == [
        ("force_open", "alice", "maintenance", "open"),
        ("reset", "alice", "done", "closed"),
    ]


def test_force_closed_admits_calls_and_keeps_counting(runtime) -> None:
    b = breaker(runtime, failure_threshold=1)
    b.force_closed(actor="bob")
    fail_times(b, 3)
    assert b.state is CircuitState.CLOSED
    assert b.snapshot()["failures"] == 3


def test_disable_makes_the_breaker_a_pass_through(runtime) -> None:
    b = breaker(runtime, failure_threshold=1)
    fail_times(b, 1)
    b.disable(actor="carol")
    assert b.call(ok) == "ok"
    fail_times(b, 2)
    assert b.state is CircuitState.CLOSED and b.override == "disabled"


def test_reset_closes_an_open_breaker_with_empty_counts(runtime) -> None:
    b = breaker(runtime, failure_threshold=2)
    fail_times(b, 2)
    b.reset()
    assert b.state is CircuitState.CLOSED and b.failures == 0
    fail_times(b, 1)
    assert b.state is CircuitState.CLOSED


# -- observability -----------------------------------------------------------------


def test_calls_publish_no_event_but_count_in_the_snapshot(runtime, fake_clock) -> None:
    b = breaker(runtime, failure_threshold=2, timeout=30)
    b.call(ok)
    fail_times(b, 2)
    with pytest.raises(CircuitOpenError):
        b.call(ok)
    with pytest.raises(CircuitOpenError):
        b.call(fail)
    snap = b.snapshot()
    assert (snap["successes"], snap["failures"], snap["rejections"]) == (1, 2, 2)
    assert snap["state"] == "open" and snap["retry_after"] == pytest.approx(30)
    assert types(runtime) == ["breaker.opened"]
    timeline = snap["timeline"]
    assert len(timeline["successes"]) == 120
    assert (timeline["successes"][-1], timeline["failures"][-1], timeline["rejections"][-1]) == (1, 2, 2)


def test_timeouts_are_counted_as_failures_and_timeouts(runtime) -> None:
    b = breaker(runtime, failure_threshold=5)

    def late() -> None:
        raise TimeoutError("late")

    with pytest.raises(TimeoutError):
        b.call(late)
    snap = b.snapshot()
    assert (snap["failures"], snap["timeouts"]) == (1, 1)


def test_latency_percentiles_and_histogram_come_from_the_clock(runtime, fake_clock) -> None:
    b = breaker(runtime)
    for ms in range(1, 101):
        b.call(fake_clock.advance, ms / 1000)
    latency = b.snapshot()["latency"]
    assert latency["p50"] == pytest.approx(0.051, abs=1e-6)
    assert latency["p99"] == pytest.approx(0.100, abs=1e-6)
    assert latency["max"] == pytest.approx(0.100, abs=1e-6)
    assert sum(latency["histogram"]["counts"]) == 100


def test_the_timeline_keeps_120_seconds_of_outcomes(runtime, fake_clock) -> None:
    b = breaker(runtime)
    b.call(ok)
    fake_clock.advance(60)
    b.call(ok)
    b.call(ok)
    timeline = b.snapshot()["timeline"]["successes"]
    assert timeline[-1] == 2 and timeline[-61] == 1
    fake_clock.advance(61)
    assert sum(b.snapshot()["timeline"]["successes"]) == 2


def test_a_call_inside_a_span_gets_a_client_span(runtime) -> None:
    b = breaker(runtime)
    with runtime.tracer.start_span("outer") as outer:
        b.call(ok)
    spans = [s for s in runtime.tracer.finished_spans() if s.name == "breaker.call"]
    assert len(spans) == 1
    assert isinstance(spans[0], Span) and spans[0].parent_id == outer.span_id
    assert spans[0].kind == "client" and spans[0].attributes["breaker"] == "svc"


def test_a_call_outside_any_span_makes_no_span(runtime) -> None:
    b = breaker(runtime)
    b.call(ok)
    tracer: Tracer = runtime.tracer
    assert tracer.finished_spans() == []


# -- configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("failure_threshold", 0),
        ("timeout", -1),
        ("half_open_max_calls", 0),
        ("failure_rate_threshold", 150),
        ("sliding_window_size", 0),
        ("slow_call_duration", 0),
    ],
)
def test_invalid_settings_are_refused_naming_breaker_and_field(runtime, field, value) -> None:
    with pytest.raises(BreakerConfigError) as info:
        breaker(runtime, **{field: value})
    assert info.value.field == field and "'svc'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_minimum_calls_may_not_exceed_the_window(runtime) -> None:
    with pytest.raises(BreakerConfigError, match="minimum_calls"):
        breaker(runtime, failure_rate_threshold=50, sliding_window_size=5, minimum_calls=6)


def test_reconfiguring_the_window_keeps_the_state_and_applies_the_new_rules(runtime) -> None:
    b = breaker(runtime, failure_rate_threshold=50, sliding_window_size=20)
    fail_times(b, 3)
    b.configure(sliding_window_size=4)
    assert b.state is CircuitState.CLOSED
    assert b.snapshot()["window_calls"] == 0
    fail_times(b, 3)
    assert b.state is CircuitState.CLOSED
    fail_times(b, 1)
    assert b.state is CircuitState.OPEN


def test_an_unknown_setting_is_refused_by_name(runtime) -> None:
    b = breaker(runtime)
    with pytest.raises(BreakerConfigError, match="treshold"):
        b.configure(failure_treshold=3)


def test_a_fallback_that_raises_propagates_and_publishes_nothing(runtime) -> None:
    b = breaker(runtime)

    def broken_fallback(error: BaseException) -> str:
        raise RuntimeError("no cache either")

    with pytest.raises(RuntimeError, match="no cache"):
        b.call(fail, fallback=broken_fallback)
    assert [e for e in runtime.bus.event_store if e.type == "fallback.used"] == []
