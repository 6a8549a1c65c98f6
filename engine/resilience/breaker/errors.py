"""The errors of `engine.resilience.breaker`; each names the thing at fault."""

from __future__ import annotations

from typing import Any, TYPE_CHECKING

from ...errors import FlowError

if TYPE_CHECKING:
    from .config import CircuitState


class CircuitOpenError(FlowError):
    """A call was rejected because its circuit breaker is open."""

    def __init__(self, breaker: str, retry_after: float | None, state: CircuitState) -> None:
        when = "until an operator resets it" if retry_after is None else f"retry after {retry_after:.3g}s"
        super().__init__(f"Circuit breaker {breaker!r} is OPEN; {when}")
        self.breaker = breaker
        self.retry_after = retry_after
        self.state = state


class BreakerConfigError(FlowError, ValueError):
    """A circuit breaker was given a setting that cannot work."""

    def __init__(self, breaker: str, field: str, value: Any, reason: str) -> None:
        super().__init__(f"circuit breaker {breaker!r}: {field}={value!r} {reason}")
        self.breaker = breaker
        self.field = field
        self.value = value


class BreakerNotFound(FlowError, KeyError):
    """No circuit breaker is registered under the given name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no circuit breaker named {name!r} (known: {', '.join(known) or 'none'})")
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return str(self.args[0])
