"""Circuit breakers, importable from one place: the breaker itself
(`engine.circuit`, with its state transitions in `engine.breaker_transitions`
and the operator's overrides in `engine.breaker_overrides`), its states,
errors and settings (`engine.breaker_config`), its counters and outcome
windows (`engine.breaker_stats`) and the registry of named breakers a
runtime's workflows share (`engine.breakers`).
"""

from __future__ import annotations

from .breakers import BreakerNotFound, BreakerRegistry
from .breaker_config import BreakerConfigError, CircuitOpenError, CircuitState
from .circuit import CircuitBreaker

__all__ = [
    "BreakerConfigError",
    "BreakerNotFound",
    "BreakerRegistry",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
]
