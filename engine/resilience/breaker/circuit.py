"""Circuit breakers: stop calling a failing downstream, then probe it carefully.

The basic API works: ``CircuitBreaker(failure_threshold, timeout)``,
``call(func, *args, **kwargs)``, ``state`` and `CircuitState`. Beyond it:

* State changes are atomic under ``_lock``; the protected call runs outside
  it. A CLOSED breaker admits without taking the lock, so a healthy call
  costs one lock round (to count its outcome). In HALF_OPEN exactly ``half_open_max_calls`` probe calls are admitted
  (default 1); every other call fails fast with `CircuitOpenError`, which
  carries the breaker's name and the seconds until it may try again.
* Consecutive mode (default): ``failure_threshold`` failures in a row open
  the breaker (a success resets the count). HALF_OPEN closes after
  ``half_open_max_calls`` successful probes; a failed probe reopens it.
* Failure-rate mode (``failure_rate_threshold`` in percent), with
  resilience4j's semantics: a count-based sliding window of the last
  ``sliding_window_size`` calls; no rate is computed before
  ``minimum_calls`` calls; the breaker opens when the failure rate, or the
  rate of calls slower than ``slow_call_duration`` seconds, reaches its
  threshold. In HALF_OPEN the rates of the probes decide.
* ``timeout`` is the time spent OPEN before probing, measured on the
  injectable clock. Outcomes of calls admitted before a state change do not
  move the new state.
* Operator overrides: `force_open` (reject everything until reset),
  `force_closed` (admit everything, keep counting), `disable` (a plain
  pass-through), `reset`; each publishes ``breaker.forced``.
* Events ``breaker.opened``, ``breaker.half_opened``, ``breaker.closed`` on
  transitions only; per-call outcomes go to counters (`snapshot`).
* ``fallback=`` (per call, or a default for the breaker): a value, or a
  callable given the error, used when the call is rejected or fails; each use
  publishes ``fallback.used``.
* Inside a traced context a call gets a ``breaker.call`` span (kind client);
  outside one, tracing costs nothing.
* Consecutive failures reset on success, and a rejected call raises
  `CircuitOpenError` (an ``Exception``).

States and settings live in `engine.resilience.breaker.config`, the errors in
`engine.resilience.breaker.errors`, the counters in `engine.resilience.breaker.stats`;
how counted outcomes move the state and the operator overrides are here.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from .config import (
    BreakerOverride,
    SETTINGS,
    BreakerConfigError,
    CircuitOpenError,
    CircuitState,
    check_settings,
    effective_minimum_calls,
)
from .stats import FAILED, FAILURE, IGNORED, REJECTION, SLOW, BreakerStats, OutcomeWindow
from ...clock import Clock, SystemClock
from ...events import Event
from ..fallback import NO_FALLBACK, use_fallback
from ...observe.tracing import current_span
from ...local_only import LocalOnly

if TYPE_CHECKING:
    from ...runtime import Runtime

__all__ = ["BreakerConfigError", "CircuitBreaker", "CircuitOpenError", "CircuitState"]

_names = itertools.count(1)
_CLOSED, _OPEN, _HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN


class CircuitBreaker(LocalOnly):
    """One breaker guarding one downstream service.

    It lives in the engine's process: sending it to a remote worker raises
    `engine.local_only.LocalOnlyError`, which says what to do instead.

    Thread safety: ``_lock`` guards the state, the override, the counts that
    decide transitions, the sliding window and ``stats``. The protected
    function, fallbacks and event publishing run outside it.
    """

    def _local_only_name(self) -> str:
        return f"circuit breaker {self.name!r}"

    def __init__(
        self,
        failure_threshold: int = 5,
        timeout: float = 60,
        *,
        name: str | None = None,
        half_open_max_calls: int = 1,
        failure_rate_threshold: float | None = None,
        sliding_window_size: int = 100,
        minimum_calls: int | None = None,
        slow_call_duration: float | None = None,
        slow_call_rate_threshold: float = 100.0,
        record_on: tuple[type[BaseException], ...] = (Exception,),
        ignore_on: tuple[type[BaseException], ...] = (),
        fallback: Any = NO_FALLBACK,
        runtime: Runtime | None = None,
        clock: Clock | None = None,
    ) -> None:
        if runtime is None:
            from ...runtime import current_runtime

            runtime = current_runtime()
        self.name = name if name is not None else f"breaker-{next(_names)}"
        self.runtime = runtime
        self.clock: Clock = clock if clock is not None else runtime.clock
        # The system clock only forwards to the time module: call it directly.
        self._monotonic = time.monotonic if isinstance(self.clock, SystemClock) else self.clock.monotonic
        self._lock = threading.Lock()
        self.configure(
            failure_threshold=failure_threshold,
            timeout=timeout,
            half_open_max_calls=half_open_max_calls,
            failure_rate_threshold=failure_rate_threshold,
            sliding_window_size=sliding_window_size,
            minimum_calls=minimum_calls,
            slow_call_duration=slow_call_duration,
            slow_call_rate_threshold=slow_call_rate_threshold,
            record_on=record_on,
            ignore_on=ignore_on,
            fallback=fallback,
        )
        self.stats = BreakerStats()
        self.last_failure_time: float | None = None
        self._state = _CLOSED
        self._override: BreakerOverride | None = None
        self._generation = 0
        self._consecutive = 0
        self._opened_at = 0.0
        self._probes = 0
        self._probe_results = OutcomeWindow(None)
        self._window = OutcomeWindow(self.sliding_window_size)

    # -- configuration -------------------------------------------------

    def configure(self, **settings: Any) -> None:
        """Validate and apply settings (the constructor's keywords after ``name``)."""
        current = {k: getattr(self, k) for k in SETTINGS if hasattr(self, k)}
        merged = {**current, **settings}
        check_settings(self.name, merged)
        with self._lock:
            resize = bool(current) and merged["sliding_window_size"] != current["sliding_window_size"]
            for key, value in merged.items():
                setattr(self, key, value)
            self._minimum_calls = effective_minimum_calls(merged)
            if resize:
                self._window = OutcomeWindow(self.sliding_window_size)

    def config(self) -> dict[str, Any]:
        """The settings as plain values (exception types by name)."""
        values = {k: getattr(self, k) for k in SETTINGS if k != "fallback"}
        values["record_on"] = [t.__name__ for t in self.record_on]
        values["ignore_on"] = [t.__name__ for t in self.ignore_on]
        values["has_fallback"] = self.fallback is not NO_FALLBACK
        return values

    @property
    def rate_mode(self) -> bool:
        """Whether the breaker decides on failure rates rather than consecutive failures."""
        return self.failure_rate_threshold is not None

    # -- the basic view -----------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state; an OPEN breaker whose timeout passed reads HALF_OPEN."""
        with self._lock:
            if self._override is BreakerOverride.FORCED_OPEN:
                return _OPEN
            if self._override is not None:
                return _CLOSED
            event = self._maybe_half_open_locked(self.clock.monotonic())
        if event is not None:
            self.runtime.bus.publish(event)
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures counted toward ``failure_threshold``."""
        return self._consecutive

    @property
    def override(self) -> BreakerOverride | None:
        """The operator override in force (a `BreakerOverride`), or None."""
        return self._override

    # -- calling -------------------------------------------------------

    def call(self, func: Callable[..., Any], *args: Any, fallback: Any = NO_FALLBACK, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` through the breaker.

        Raises `CircuitOpenError` when rejected and re-raises the call's
        error, unless a fallback (this call's, else the breaker's) is set.
        """
        # CLOSED admits without the lock: reading one attribute is atomic, and
        # the generation read first makes a stale admission harmless (its
        # outcome is counted but cannot move a later state).
        generation = self._generation
        probe = False
        if self._state is not _CLOSED or self._override is not None:
            with self._lock:
                generation, probe, events, rejected = self._admit_locked()
            if events:
                publish = self.runtime.bus.publish
                for event in events:
                    publish(event)
            if rejected is not None:
                return self._fail(rejected, fallback, "open")
            if generation < 0:
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    return self._fail(exc, fallback, "error")
        monotonic = self._monotonic
        start = monotonic()
        try:
            if current_span() is None:
                result = func(*args, **kwargs)
            else:
                result = self._traced(func, args, kwargs)
        except Exception as exc:
            self._record(exc, monotonic(), start, generation, probe)
            return self._fail(exc, fallback, "error")
        except BaseException:
            self._release(generation, probe)
            raise
        end = monotonic()
        elapsed = end - start
        slow_limit = self.slow_call_duration
        slow = slow_limit is not None and elapsed >= slow_limit
        event = None
        # acquire/release rather than ``with``: this is the per-call hot path.
        lock = self._lock
        lock.acquire()
        try:
            self.stats.success(elapsed, end)
            if slow:
                self.stats.slow_calls += 1
            if generation == self._generation and self._override is None:
                if self._state is _CLOSED and not slow and self.failure_rate_threshold is None:
                    self._consecutive = 0
                elif self._state is _CLOSED:
                    event = self._closed_outcome_locked(SLOW if slow else 0, end)
                else:
                    event = self._probe_outcome_locked(SLOW if slow else 0, end)
        finally:
            lock.release()
        if event is not None:
            self.runtime.bus.publish(event)
        return result

    def _traced(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        attributes = {"breaker": self.name, "state": self._state.value}
        with self.runtime.tracer.start_span("breaker.call", attributes, kind="client"):
            return func(*args, **kwargs)

    def _fail(self, error: Exception, fallback: Any, reason: str) -> Any:
        if fallback is NO_FALLBACK:
            fallback = self.fallback
            if fallback is NO_FALLBACK:
                raise error
        with self._lock:
            self.stats.fallbacks += 1
        return use_fallback(
            fallback, error, publish=self.runtime.bus.publish, source="breaker", unit=self.name, reason=reason
        )

    def _admit_locked(self) -> tuple[int, bool, list[Event] | None, CircuitOpenError | None]:
        override = self._override
        if override is BreakerOverride.DISABLED:
            return -1, False, None, None
        if override is BreakerOverride.FORCED_CLOSED:
            return self._generation, False, None, None
        now = self.clock.monotonic()
        if override == "forced_open":
            return self._reject_locked(now, None)
        events: list[Event] | None = None
        event = self._maybe_half_open_locked(now)
        if event is not None:
            events = [event]
        if self._state is _OPEN:
            return self._reject_locked(now, max(0.0, self.timeout - (now - self._opened_at)))
        if self._probes >= self.half_open_max_calls:
            generation, probe, _, rejected = self._reject_locked(now, 0.0)
            return generation, probe, events, rejected
        self._probes += 1
        return self._generation, True, events, None

    def _reject_locked(self, now: float, retry_after: float | None) -> tuple[int, bool, None, CircuitOpenError]:
        self.stats.rejections += 1
        self.stats.tick(now, REJECTION)
        state = _OPEN if self._override == "forced_open" else self._state
        return self._generation, False, None, CircuitOpenError(self.name, retry_after, state)

    def _release(self, generation: int, probe: bool) -> None:
        if probe:
            with self._lock:
                if generation == self._generation:
                    self._probes -= 1

    def _record(self, error: Exception, end: float, start: float, generation: int, probe: bool) -> None:
        """Count a call that raised ``error``; a recorded failure may move the state."""
        elapsed = end - start
        if not isinstance(error, self.record_on) or isinstance(error, self.ignore_on):
            with self._lock:
                self.stats.record(elapsed, end, IGNORED)
            self._release(generation, probe)
            return
        slow_limit = self.slow_call_duration
        slow = slow_limit is not None and elapsed >= slow_limit
        event = None
        with self._lock:
            stats = self.stats
            stats.record(elapsed, end, FAILURE)
            if isinstance(error, TimeoutError):
                stats.timeouts += 1
            if slow:
                stats.slow_calls += 1
            self.last_failure_time = self.clock.time()
            if generation == self._generation and self._override is None:
                outcome = FAILED | (SLOW if slow else 0)
                if self._state is _CLOSED:
                    event = self._closed_outcome_locked(outcome, end)
                else:
                    event = self._probe_outcome_locked(outcome, end)
        if event is not None:
            self.runtime.bus.publish(event)

    # -- dashboards ----------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything a dashboard shows, as plain values."""
        state = self.state
        with self._lock:
            now = self.clock.monotonic()
            failure_rate, slow_rate = self._window.rates()
            retry_after = None
            if self._override is BreakerOverride.FORCED_OPEN:
                retry_after = None
            elif self._state is _OPEN:
                retry_after = max(0.0, self.timeout - (now - self._opened_at))
            return {
                "name": self.name,
                "state": state.value,
                "override": self._override,
                "mode": "rate" if self.rate_mode else "consecutive",
                "consecutive_failures": self._consecutive,
                "failure_rate": failure_rate,
                "slow_call_rate": slow_rate,
                "window_calls": len(self._window),
                "probes_in_flight": self._probes - len(self._probe_results) if self._state is _HALF_OPEN else 0,
                "retry_after": retry_after,
                "last_failure_time": self.last_failure_time,
                "config": self.config(),
                **self.stats.snapshot(now),
            }

    def __repr__(self) -> str:
        return f"CircuitBreaker(name={self.name!r}, state={self._state.value}, override={self._override})"

    # -- how counted outcomes move the state ----------------------------------

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

    # -- operator overrides: force open, force closed, disable, reset ---------

    def force_open(self, *, actor: str = "operator", reason: str | None = None) -> None:
        """Reject every call until `reset` (or another override)."""
        self._set_override(BreakerOverride.FORCED_OPEN, "force_open", actor, reason)

    def force_closed(self, *, actor: str = "operator", reason: str | None = None) -> None:
        """Admit every call, still counting outcomes, until `reset`."""
        self._set_override(BreakerOverride.FORCED_CLOSED, "force_closed", actor, reason)

    def disable(self, *, actor: str = "operator", reason: str | None = None) -> None:
        """Make the breaker a plain pass-through (no counting, no state) until `reset`."""
        self._set_override(BreakerOverride.DISABLED, "disable", actor, reason)

    def reset(self, *, actor: str = "operator", reason: str | None = None) -> None:
        """Drop any override and start CLOSED with empty counts (lifetime counters stay)."""
        self._set_override(None, "reset", actor, reason)

    def _set_override(self, override: BreakerOverride | None, action: str, actor: str, reason: str | None) -> None:
        with self._lock:
            self._override = override
            if override is None:
                self._state = _CLOSED
                self._consecutive = 0
                self._probes = 0
                self._probe_results = OutcomeWindow(None)
                self._clear_window_locked()
            self._generation += 1
            state = self._state.value if override is None else (
                "open" if override is BreakerOverride.FORCED_OPEN else "closed"
            )
            event = self._event(
                "breaker.forced",
                {"action": action, "actor": actor, "reason": reason, "override": override.value if override else None, "state": state},
            )
        self.runtime.bus.publish(event)

