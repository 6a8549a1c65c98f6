"""A circuit breaker's vocabulary: its states, its errors and its settings.

`check_settings` validates a breaker's settings as a whole (some depend on
others) and names the breaker and the field in its error.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

from .errors import BreakerConfigError
from .errors import CircuitOpenError  # noqa: F401 - moved to errors.py; importable here too


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOverride(StrEnum):
    """An operator's override of a breaker's own state (`CircuitBreaker.override`)."""

    FORCED_OPEN = "forced_open"
    FORCED_CLOSED = "forced_closed"
    DISABLED = "disabled"


SETTINGS = (
    "failure_threshold", "timeout", "half_open_max_calls", "failure_rate_threshold",
    "sliding_window_size", "minimum_calls", "slow_call_duration", "slow_call_rate_threshold",
    "record_on", "ignore_on", "fallback",
)
DEFAULT_MINIMUM_CALLS = 10


def effective_minimum_calls(settings: dict[str, Any]) -> int:
    """``minimum_calls``, or by default 10 capped at the window size."""
    minimum = settings["minimum_calls"]
    return minimum if minimum is not None else min(DEFAULT_MINIMUM_CALLS, settings["sliding_window_size"])


def check_settings(name: str, settings: dict[str, Any]) -> None:
    """Raise `BreakerConfigError` for the first setting of ``settings`` that cannot work."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise BreakerConfigError(name, unknown[0], settings[unknown[0]], "is not a setting")
    s = settings

    def need(field: str, ok: bool, reason: str) -> None:
        if not ok:
            raise BreakerConfigError(name, field, s[field], reason)

    need("failure_threshold", _is_int(s["failure_threshold"]) and s["failure_threshold"] >= 1,
         "must be an integer >= 1")
    need("timeout", _is_number(s["timeout"]) and s["timeout"] >= 0, "must be seconds >= 0")
    need("half_open_max_calls", _is_int(s["half_open_max_calls"]) and s["half_open_max_calls"] >= 1,
         "must be an integer >= 1")
    rate = s["failure_rate_threshold"]
    need("failure_rate_threshold", rate is None or (_is_number(rate) and 0 < rate <= 100),
         "must be a percentage in (0, 100] or None")
    need("sliding_window_size", _is_int(s["sliding_window_size"]) and s["sliding_window_size"] >= 1,
         "must be an integer >= 1")
    minimum = s["minimum_calls"]
    need("minimum_calls", minimum is None or (_is_int(minimum) and 1 <= minimum <= s["sliding_window_size"]),
         "must be an integer in [1, sliding_window_size] or None")
    slow = s["slow_call_duration"]
    need("slow_call_duration", slow is None or (_is_number(slow) and slow > 0), "must be seconds > 0 or None")
    slow_rate = s["slow_call_rate_threshold"]
    need("slow_call_rate_threshold", _is_number(slow_rate) and 0 < slow_rate <= 100,
         "must be a percentage in (0, 100]")
    for field in ("record_on", "ignore_on"):
        types = s[field]
        need(field, isinstance(types, tuple) and all(isinstance(t, type) and issubclass(t, BaseException)
                                                     for t in types), "must be a tuple of exception types")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
