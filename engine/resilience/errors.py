"""The errors of `engine.resilience`; each names the thing at fault."""

from __future__ import annotations

from typing import Any

from ..errors import FlowError


class RetryPolicyError(FlowError, ValueError):
    """A retry policy was given values that cannot work."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"RetryPolicy.{field}={value!r}: {reason}")
        self.field = field
        self.value = value


class AttemptTimeoutError(FlowError, TimeoutError):
    """One attempt of a unit of work ran longer than its policy's timeout."""

    def __init__(self, unit: str, timeout: float, attempt: int) -> None:
        super().__init__(f"{unit}: attempt {attempt} timed out after {timeout:g}s")
        self.unit = unit
        self.timeout = timeout
        self.attempt = attempt
