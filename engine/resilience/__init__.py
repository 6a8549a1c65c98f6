"""Resilience: retry policies, fallbacks, circuit breakers, the dead-letter queue.

Holds `retry`, `fallback`, `breaker/` (the circuit breaker and the
registry of named breakers) and `dlq/` (the dead-letter queue, its records
and their storage interface).
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.observe`.
"""

from ..runtime import register_service
from .retry import AttemptTimeoutError, RetryPolicy, RetryPolicyError, RetryStrategy, backoff_delay
from .breaker import (
    BreakerConfigError,
    BreakerNotFound,
    BreakerRegistry,
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
)
from .dlq import (
    BulkOutcome,
    DeadLetter,
    DeadLetterAction,
    DeadLetterBusyError,
    DeadLetterCountChanged,
    DeadLetterFilterError,
    DeadLetterNotFound,
    DeadLetterPayloadError,
    DeadLetterQueue,
    DeadLetterStateError,
    DeadLetterStore,
    InMemoryDeadLetterStore,
    NoRetrierError,
)

register_service("dlq", lambda runtime: DeadLetterQueue(runtime=runtime))
register_service("breakers", lambda runtime: BreakerRegistry(runtime=runtime))

__all__ = [
    "AttemptTimeoutError",
    "BreakerConfigError",
    "BreakerNotFound",
    "BreakerRegistry",
    "BulkOutcome",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "DeadLetter",
    "DeadLetterAction",
    "DeadLetterBusyError",
    "DeadLetterCountChanged",
    "DeadLetterFilterError",
    "DeadLetterNotFound",
    "DeadLetterPayloadError",
    "DeadLetterQueue",
    "DeadLetterStateError",
    "DeadLetterStore",
    "InMemoryDeadLetterStore",
    "NoRetrierError",
    "RetryPolicy",
    "RetryPolicyError",
    "RetryStrategy",
    "backoff_delay",
]
