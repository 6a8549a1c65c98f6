"""A breaker driven by a fake clock agrees, step by step, with a plain model of its rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import CircuitBreaker, CircuitOpenError, EventBus, FakeClock, Runtime


class Model:
    """The consecutive-mode rules, single-threaded, written as plainly as possible."""

    def __init__(self, threshold: int, timeout: float, probes: int) -> None:
        self.threshold, self.timeout, self.probes = threshold, timeout, probes
        self.state = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self.probe_successes = 0

    def call(self, ok: bool, now: float) -> str:
        if self.state == "open":
            if now - self.opened_at < self.timeout:
                return "rejected"
            self.state, self.probe_successes = "half_open", 0
        if self.state == "half_open":
            if not ok:
                self.state, self.opened_at = "open", now
                return "failed"
            self.probe_successes += 1
            if self.probe_successes >= self.probes:
                self.state, self.failures = "closed", 0
            return "ok"
        if ok:
            self.failures = 0
            return "ok"
        self.failures += 1
        if self.failures >= self.threshold:
            self.state, self.opened_at = "open", now
        return "failed"


operations = st.lists(
    st.one_of(st.booleans(), st.floats(min_value=0.1, max_value=20).map(lambda dt: ("advance", dt))),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(
    threshold=st.integers(min_value=1, max_value=4),
    timeout=st.floats(min_value=0.5, max_value=15),
    probes=st.integers(min_value=1, max_value=3),
    ops=operations,
)
def test_breaker_agrees_with_the_model_of_its_rules(threshold, timeout, probes, ops) -> None:
    clock = FakeClock()
    runtime = Runtime(EventBus(), clock)
    breaker = CircuitBreaker(threshold, timeout, half_open_max_calls=probes, name="m", runtime=runtime)
    model = Model(threshold, timeout, probes)

    def good() -> str:
        return "ok"

    def bad() -> None:
        raise ConnectionError("down")

    for op in ops:
        if isinstance(op, tuple):
            clock.advance(op[1])
            continue
        expected = model.call(op, clock.monotonic())
        try:
            breaker.call(good if op else bad)
            actual = "ok"
        except CircuitOpenError:
            actual = "rejected"
        except ConnectionError:
            actual = "failed"
        assert actual == expected
        assert breaker.state.value == model.state or (
            model.state == "open" and breaker.state.value == "half_open"
            and clock.monotonic() - model.opened_at >= timeout
        )
