"""Retry policies: delays within their jitter bounds, attempts bounded, events, timeouts."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Event, EventBus, FakeClock, RetryPolicy, RetryPolicyError, RetryStrategy, backoff_delay
from engine.resilience.retry import AttemptTimeoutError


class Flaky:
    """Fails ``failures`` times with ``error``, then returns ``"ok"``."""

    def __init__(self, failures: int, error: type[Exception] = ValueError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "ok"


def wait_for_abandoned_attempts() -> None:
    """Timed-out attempts run on until released; make sure none outlives its test."""
    for thread in threading.enumerate():
        if thread.name.startswith("retry-attempt-"):
            thread.join(5)
            assert not thread.is_alive()


def run(policy: RetryPolicy, func, **kwargs):
    clock = FakeClock()
    events: list[Event] = []
    try:
        result = policy.call(func, clock=clock, publish=events.append, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the tests look at what was raised
        result = exc
    return result, clock, events


@given(
    attempt=st.integers(min_value=1, max_value=60),
    base=st.floats(min_value=0, max_value=100, allow_nan=False),
    multiplier=st.floats(min_value=1, max_value=10, allow_nan=False),
    extra=st.floats(min_value=0, max_value=1000, allow_nan=False),
    jitter=st.sampled_from(["full", "equal", "none"]),
    r=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_delay_stays_within_its_jitter_bounds(attempt, base, multiplier, extra, jitter, r) -> None:
    max_delay = base + extra
    ceiling = min(max_delay, base * multiplier ** (attempt - 1))
    delay = backoff_delay(attempt, base, multiplier, max_delay, jitter, lambda: r)
    lower = {"full": 0.0, "equal": ceiling / 2, "none": ceiling}[jitter]
    assert lower - 1e-9 <= delay <= ceiling + 1e-9
    assert delay <= max_delay + 1e-9


def test_backoff_delay_grows_exponentially_without_jitter() -> None:
    delays = [backoff_delay(n, 1.0, 2.0, 100.0, "none") for n in range(1, 9)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 100]


def test_backoff_delay_survives_huge_exponents() -> None:
    assert backoff_delay(10_000, 1.0, 10.0, 30.0, "none") == 30.0


@given(max_attempts=st.integers(min_value=1, max_value=12), failures=st.integers(min_value=0, max_value=20))
def test_attempts_never_exceed_the_maximum(max_attempts, failures) -> None:
    flaky = Flaky(failures)
    result, clock, _ = run(RetryPolicy(max_attempts=max_attempts, base_delay=0.5), flaky)
    assert flaky.calls <= max_attempts
    assert flaky.calls == min(failures + 1, max_attempts)
    assert len(clock.sleeps) == flaky.calls - 1
    assert (result == "ok") == (failures < max_attempts)


def test_each_scheduled_retry_is_an_event_with_attempt_and_delay() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, jitter="none")
    result, clock, events = run(policy, Flaky(2), unit="fetch")
    assert result == "ok"
    scheduled = [e for e in events if e.type == "retry.scheduled"]
    assert [(e.data["unit"], e.data["attempt"], e.data["delay"]) for e in scheduled] == [
        ("fetch", 1, 1.0), ("fetch", 2, 2.0),
    ]
    assert clock.sleeps == [1.0, 2.0]


def test_the_last_error_is_reraised_unchanged_after_the_last_attempt() -> None:
    result, _, events = run(RetryPolicy(max_attempts=2, base_delay=0), Flaky(5))
    assert isinstance(result, ValueError) and str(result) == "failure 2"
    gave_up = [e for e in events if e.type == "retry.gave_up"]
    assert [(e.data["attempts"], e.data["reason"]) for e in gave_up] == [(2, "exhausted")]


def test_give_up_on_fails_at_once_without_retrying() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0, give_up_on=(KeyError,))
    flaky = Flaky(3, KeyError)
    calls: list[tuple[str, int]] = []
    result, clock, events = run(policy, flaky, on_give_up=lambda e, n: calls.append((type(e).__name__, n)))
    assert isinstance(result, KeyError)
    assert flaky.calls == 1 and clock.sleeps == []
    assert calls == [("KeyError", 1)]
    assert [e.data["reason"] for e in events if e.type == "retry.gave_up"] == ["not_retryable"]


def test_errors_outside_retry_on_are_not_retried() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=0, retry_on=(TimeoutError,))
    flaky = Flaky(3, ValueError)
    result, _, _ = run(policy, flaky)
    assert isinstance(result, ValueError) and flaky.calls == 1


def test_on_give_up_is_called_once_with_the_attempt_count() -> None:
    calls: list[int] = []
    run(RetryPolicy(max_attempts=4, base_delay=0), Flaky(10), on_give_up=lambda e, n: calls.append(n))
    assert calls == [4]


def test_a_single_exception_type_is_accepted_for_retry_on() -> None:
    assert RetryPolicy(retry_on=ValueError).retry_on == (ValueError,)
    assert RetryPolicy(give_up_on=[KeyError, TypeError]).give_up_on == (KeyError, TypeError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("base_delay", -1),
        ("multiplier", 0.5),
        ("jitter", "sometimes"),
        ("timeout", 0),
        ("retry_on", ("ValueError",)),
    ],
)
def test_invalid_policies_are_refused_naming_the_field(field, value) -> None:
    with pytest.raises(RetryPolicyError) as info:
        RetryPolicy(**{field: value})
    assert info.value.field == field
    assert f"RetryPolicy.{field}" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_per_attempt_timeout_fails_a_late_attempt_and_retries_it() -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow_then_fast() -> str:
        calls.append(1)
        if len(calls) == 1:
            release.wait(5)
        return "fast"

    policy = RetryPolicy(max_attempts=2, base_delay=0, timeout=0.05)
    try:
        result, _, events = run(policy, slow_then_fast, unit="slow")
    finally:
        release.set()
        wait_for_abandoned_attempts()
    assert result == "fast"
    scheduled = [e for e in events if e.type == "retry.scheduled"]
    assert scheduled[0].data["error_type"] == "AttemptTimeoutError"


def test_a_timed_out_last_attempt_raises_attempt_timeout_error() -> None:
    release = threading.Event()
    policy = RetryPolicy(max_attempts=1, timeout=0.02)
    try:
        result, _, _ = run(policy, lambda: release.wait(5), unit="stuck")
    finally:
        release.set()
        wait_for_abandoned_attempts()
    assert isinstance(result, AttemptTimeoutError) and isinstance(result, TimeoutError)
    assert (result.unit, result.timeout, result.attempt) == ("stuck", 0.02, 1)


def test_a_bounded_attempt_returns_its_result_and_raises_its_error() -> None:
    policy = RetryPolicy(max_attempts=1, timeout=5)
    assert run(policy, lambda: 42)[0] == 42
    assert isinstance(run(policy, Flaky(1))[0], ValueError)


def test_without_a_clock_the_current_runtime_is_used_only_on_failure(runtime) -> None:
    from engine import use_runtime

    with use_runtime(runtime):
        assert RetryPolicy(max_attempts=3, base_delay=2.0, jitter="none").call(Flaky(1)) == "ok"
    assert runtime.clock.sleeps == [2.0]
    assert [e.type for e in runtime.bus.event_store] == ["retry.scheduled"]


def test_seed_exponential_backoff_retries_without_printing(capsys) -> None:
    clock = FakeClock()
    flaky = Flaky(2)
    assert RetryStrategy.exponential_backoff(flaky, max_attempts=3, clock=clock) == "ok"
    assert flaky.calls == 3 and len(clock.sleeps) == 2
    assert capsys.readouterr().out == ""


def test_seed_exponential_backoff_raises_after_max_attempts() -> None:
    with pytest.raises(ValueError, match="failure 3"):
        RetryStrategy.exponential_backoff(Flaky(9), max_attempts=3, jitter=False, clock=FakeClock())


def test_policy_call_publishes_to_the_given_bus() -> None:
    bus = EventBus(enable_event_sourcing=True)
    RetryPolicy(max_attempts=2, base_delay=0).call(Flaky(1), clock=FakeClock(), publish=bus.publish)
    assert [e.type for e in bus.event_store] == ["retry.scheduled"]
