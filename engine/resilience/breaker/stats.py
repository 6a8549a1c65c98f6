"""The counts a circuit breaker keeps: for its dashboard, without an event per
call, and the sliding windows of outcomes its rate rules decide on.

`BreakerStats` counts successes, failures, rejections, timeouts, slow calls,
ignored errors and fallbacks; keeps a latency histogram and the most recent
latencies (the last `LATENCY_SAMPLES`) for percentiles; and a ring of per-second outcomes over the last
`TIMELINE_SECONDS` seconds, for a sparkline.

`OutcomeWindow` is a count-based sliding window of call outcomes.

Not locked: the owning breaker updates and reads these only under its own lock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from typing import Any

TIMELINE_SECONDS = 120
LATENCY_SAMPLES = 512  # a power of two, so a mask turns the index into a ring position
_SAMPLE_MASK = LATENCY_SAMPLES - 1
# Upper bounds (seconds) of the latency histogram buckets; the last is +inf.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"),
)

SUCCESS, FAILURE, REJECTION, IGNORED = 0, 1, 2, 3
# A call's outcome as bits, for the windows that decide a breaker's state.
FAILED, SLOW = 1, 2


class OutcomeWindow:
    """The outcomes (FAILED/SLOW bits) of the last ``size`` calls, with running counts.

    ``size=None`` keeps every outcome (the probes of one HALF_OPEN period).
    """

    __slots__ = ("_calls", "failed", "slow")

    def __init__(self, size: int | None) -> None:
        self._calls: deque[int] = deque(maxlen=size)
        self.failed = 0
        self.slow = 0

    def add(self, outcome: int) -> None:
        calls = self._calls
        if len(calls) == calls.maxlen:
            dropped = calls[0]
            self.failed -= dropped & FAILED
            self.slow -= (dropped & SLOW) >> 1
        calls.append(outcome)
        self.failed += outcome & FAILED
        self.slow += (outcome & SLOW) >> 1

    def __len__(self) -> int:
        return len(self._calls)

    def rates(self) -> tuple[float | None, float | None]:
        """Failure and slow-call rates in percent (None when empty)."""
        calls = len(self._calls)
        if not calls:
            return None, None
        return self.failed * 100.0 / calls, self.slow * 100.0 / calls


class BreakerStats:
    """Lifetime counters, latency distribution and a 120-second outcome timeline."""

    __slots__ = (
        "successes", "failures", "rejections", "timeouts", "slow_calls", "ignored", "fallbacks",
        "_buckets", "_samples", "_sample_index",
        "_ring_second", "_ring",
    )

    def __init__(self) -> None:
        self.successes = 0
        self.failures = 0
        self.rejections = 0
        self.timeouts = 0
        self.slow_calls = 0
        self.ignored = 0
        self.fallbacks = 0
        self._buckets = [0] * len(LATENCY_BOUNDS)
        self._samples = [0.0] * LATENCY_SAMPLES
        self._sample_index = 0
        self._ring_second = [-1] * TIMELINE_SECONDS
        self._ring = [[0, 0, 0, 0] for _ in range(TIMELINE_SECONDS)]

    def record(self, elapsed: float, now: float, outcome: int) -> None:
        """Count one finished call: its outcome, its duration, its second on the timeline."""
        if outcome == SUCCESS:
            self.successes += 1
        elif outcome == FAILURE:
            self.failures += 1
        else:
            self.ignored += 1
        self._buckets[bisect_left(LATENCY_BOUNDS, elapsed)] += 1
        # The sample index only grows; masking it makes the list a ring.
        index = self._sample_index
        self._samples[index & _SAMPLE_MASK] = elapsed
        self._sample_index = index + 1
        second = int(now)
        slot = second % TIMELINE_SECONDS
        if self._ring_second[slot] != second:
            self._ring_second[slot] = second
            self._ring[slot] = [0, 0, 0, 0]
        self._ring[slot][outcome] += 1

    def success(self, elapsed: float, now: float) -> None:
        """`record` of a success, unrolled: it runs once per successful call."""
        self.successes += 1
        self._buckets[bisect_left(LATENCY_BOUNDS, elapsed)] += 1
        index = self._sample_index
        self._samples[index & _SAMPLE_MASK] = elapsed
        self._sample_index = index + 1
        second = int(now)
        slot = second % TIMELINE_SECONDS
        if self._ring_second[slot] != second:
            self._ring_second[slot] = second
            self._ring[slot] = [0, 0, 0, 0]
        self._ring[slot][0] += 1

    def tick(self, now: float, outcome: int) -> None:
        """Count ``outcome`` (a rejection) in the second of ``now`` on the timeline."""
        second = int(now)
        slot = second % TIMELINE_SECONDS
        if self._ring_second[slot] != second:
            self._ring_second[slot] = second
            self._ring[slot] = [0, 0, 0, 0]
        self._ring[slot][outcome] += 1

    def snapshot(self, now: float) -> dict[str, Any]:
        """Plain values: counters, latency summary and the per-second timeline.

        ``latency`` mean, max and percentiles are over the most recent
        samples; its histogram counts every call.
        """
        calls = sum(self._buckets)
        ordered = sorted(self._samples[: min(self._sample_index, LATENCY_SAMPLES)])
        return {
            "calls": calls,
            "successes": self.successes,
            "failures": self.failures,
            "rejections": self.rejections,
            "timeouts": self.timeouts,
            "slow_calls": self.slow_calls,
            "ignored": self.ignored,
            "fallbacks": self.fallbacks,
            "latency": {
                "mean": sum(ordered) / len(ordered) if ordered else 0.0,
                "max": ordered[-1] if ordered else 0.0,
                "p50": _percentile(ordered, 0.50),
                "p95": _percentile(ordered, 0.95),
                "p99": _percentile(ordered, 0.99),
                "histogram": {
                    "bounds": [b if b != float("inf") else None for b in LATENCY_BOUNDS],
                    "counts": list(self._buckets),
                },
            },
            "timeline": self._timeline(int(now)),
        }

    def _timeline(self, current: int) -> dict[str, Any]:
        successes: list[int] = []
        failures: list[int] = []
        rejections: list[int] = []
        for second in range(current - TIMELINE_SECONDS + 1, current + 1):
            index = second % TIMELINE_SECONDS
            slot = self._ring[index] if self._ring_second[index] == second else (0, 0, 0)
            successes.append(slot[0])
            failures.append(slot[1])
            rejections.append(slot[2])
        return {
            "seconds": TIMELINE_SECONDS,
            "successes": successes,
            "failures": failures,
            "rejections": rejections,
        }


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
