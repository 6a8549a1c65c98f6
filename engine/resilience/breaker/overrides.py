"""Operator overrides of a circuit breaker: force open, force closed, disable, reset.

`BreakerOverrides` is the part of `engine.resilience.breaker.circuit.CircuitBreaker` an operator
drives. An override takes effect atomically under the breaker's ``_lock``
(which guards the override with the state it masks) and bumps the
generation, so outcomes of calls admitted before it cannot move the state
after it; its ``breaker.forced`` event is published once the lock is
released.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from .config import BreakerOverride, CircuitState
from .stats import OutcomeWindow
from ...events import Event

if TYPE_CHECKING:
    from ...runtime import Runtime

_CLOSED = CircuitState.CLOSED


class BreakerOverrides:
    """Operator controls of a breaker (mixed into `CircuitBreaker`, which owns the state)."""

    # Provided by CircuitBreaker.
    runtime: Runtime
    _lock: threading.Lock
    _override: BreakerOverride | None
    _state: CircuitState
    _generation: int
    _consecutive: int
    _probes: int
    _probe_results: OutcomeWindow
    _clear_window_locked: Callable[[], None]
    _event: Callable[[str, dict[str, Any]], Event]

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
