"""How a circuit breaker's counted outcomes move its state, and the transitions.

`BreakerTransitions` is the part of `engine.resilience.breaker.circuit.CircuitBreaker` that
decides, for the outcome of a call admitted in the current generation,
whether the breaker stays put, opens (consecutive failures, or failure or
slow-call rate at its threshold), or, from HALF_OPEN, closes once its probes
are in; and makes those transitions. Every method here runs holding the
breaker's ``_lock``; a transition returns its event, to be published after
the lock is released.
"""

from __future__ import annotations

from typing import Any

from .config import CircuitState
from .stats import FAILED, OutcomeWindow
from ...events import Event

_CLOSED, _OPEN, _HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN


class BreakerTransitions:
    """State decisions and transitions of a breaker (mixed into `CircuitBreaker`, which owns the state)."""

    # Provided by CircuitBreaker.
    name: str
    rate_mode: bool
    failure_threshold: int
    failure_rate_threshold: float | None
    slow_call_duration: float | None
    slow_call_rate_threshold: float
    half_open_max_calls: int
    sliding_window_size: int
    timeout: float
    _state: CircuitState
    _generation: int
    _consecutive: int
    _opened_at: float
    _probes: int
    _probe_results: OutcomeWindow
    _window: OutcomeWindow
    _minimum_calls: int

    def _closed_outcome_locked(self, outcome: int, now: float) -> Event | None:
        if outcome & FAILED:
            self._consecutive += 1
        else:
            self._consecutive = 0
        if not self.rate_mode:
            if self._consecutive >= self.failure_threshold:
                return self._open_locked(now, "failure_threshold")
            return None
        window = self._window
        window.add(outcome)
        if len(window) < self._minimum_calls:
            return None
        return self._judge_rates_locked(window, now)

    def _probe_outcome_locked(self, outcome: int, now: float) -> Event | None:
        if not self.rate_mode and outcome & FAILED:
            return self._open_locked(now, "probe_failed")
        results = self._probe_results
        results.add(outcome)
        if len(results) < self.half_open_max_calls:
            return None
        if not self.rate_mode:
            return self._close_locked("probes_succeeded")
        event = self._judge_rates_locked(results, now)
        return event if event is not None else self._close_locked("probe_rates_below_threshold")

    def _judge_rates_locked(self, window: OutcomeWindow, now: float) -> Event | None:
        failure_rate, slow_rate = window.rates()
        if failure_rate is not None and failure_rate >= self.failure_rate_threshold:
            return self._open_locked(now, "failure_rate", failure_rate, slow_rate)
        if slow_rate is not None and self.slow_call_duration is not None and slow_rate >= self.slow_call_rate_threshold:
            return self._open_locked(now, "slow_call_rate", failure_rate, slow_rate)
        return None

    # -- transitions (each returns the event to publish after unlocking) --

    def _open_locked(
        self, now: float, reason: str, failure_rate: float | None = None, slow_rate: float | None = None
    ) -> Event:
        self._state = _OPEN
        self._opened_at = now
        self._generation += 1
        self._probes = 0
        self._probe_results = OutcomeWindow(None)
        self._clear_window_locked()
        return self._event(
            "breaker.opened",
            {
                "reason": reason,
                "consecutive_failures": self._consecutive,
                "failure_rate": failure_rate,
                "slow_call_rate": slow_rate,
                "retry_after": self.timeout,
            },
        )

    def _maybe_half_open_locked(self, now: float) -> Event | None:
        if self._state is not _OPEN or now - self._opened_at < self.timeout:
            return None
        self._state = _HALF_OPEN
        self._generation += 1
        self._probes = 0
        self._probe_results = OutcomeWindow(None)
        return self._event("breaker.half_opened", {"max_probes": self.half_open_max_calls})

    def _close_locked(self, reason: str) -> Event:
        self._state = _CLOSED
        self._generation += 1
        self._consecutive = 0
        self._probes = 0
        self._probe_results = OutcomeWindow(None)
        self._clear_window_locked()
        return self._event("breaker.closed", {"reason": reason})

    def _clear_window_locked(self) -> None:
        self._window = OutcomeWindow(self.sliding_window_size)

    def _event(self, event_type: str, data: dict[str, Any]) -> Event:
        data["breaker"] = self.name
        return Event(event_type, data)
