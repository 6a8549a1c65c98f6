"""Circuit breakers, importable from one place: the breaker itself
(`engine.resilience.breaker.circuit`, with its state transitions and the
operator's overrides), its states,
errors and settings (`engine.resilience.breaker.config`), its counters and outcome
windows (`engine.resilience.breaker.stats`) and the registry of named breakers a
runtime's workflows share (`engine.resilience.breaker.registry`).
"""

from __future__ import annotations

from .registry import BreakerNotFound, BreakerRegistry
from .config import BreakerConfigError, CircuitOpenError, CircuitState
from .circuit import CircuitBreaker

__all__ = [
    "BreakerConfigError",
    "BreakerNotFound",
    "BreakerRegistry",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
]
