"""Retry policies: one value that says how a failed unit of work is retried.

`RetryPolicy` is used wherever work can fail: DAG tasks, saga steps and
compensations, event handlers and pool tasks. The delay before each retry is
computed by the pure function `backoff_delay`, so tests check it against its
bounds; `RetryStrategy.exponential_backoff` is the seed's blocking helper,
which sleeps through an injectable clock and reports each scheduled retry as a
``retry.scheduled`` event instead of printing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Literal, TypeVar

from .clock import Clock
from .errors import FlowError
from .events import Event

T = TypeVar("T")
Jitter = Literal["full", "equal", "none"]


class RetryPolicyError(FlowError, ValueError):
    """A retry policy was given values that cannot work."""

    def __init__(self, field: str, value: Any, reason: str) -> None:
        super().__init__(f"RetryPolicy.{field}={value!r}: {reason}")
        self.field = field
        self.value = value


def backoff_delay(
    attempt: int,
    base_delay: float,
    multiplier: float,
    max_delay: float,
    jitter: Jitter,
    rand: Callable[[], float] = random.random,
) -> float:
    """The delay after failed attempt number ``attempt`` (1-based).

    The exponential ceiling is ``min(max_delay, base_delay * multiplier **
    (attempt - 1))``. ``"full"`` jitter (AWS's recommendation) draws uniformly
    from ``[0, ceiling]``; ``"equal"`` from ``[ceiling / 2, ceiling]``;
    ``"none"`` returns the ceiling. ``rand`` returns a float in ``[0, 1)``.
    """
    if attempt < 1:
        raise RetryPolicyError("attempt", attempt, "attempts are numbered from 1")
    try:
        ceiling = min(max_delay, base_delay * multiplier ** (attempt - 1))
    except OverflowError:
        ceiling = max_delay
    if jitter == "full":
        return ceiling * rand()
    if jitter == "equal":
        return ceiling / 2 + (ceiling / 2) * rand()
    return ceiling


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry a unit of work.

    ``max_attempts`` counts the first attempt (1 means never retry).
    ``retry_on`` lists the exception types that are retried; ``give_up_on``
    the ones that fail at once even if they match ``retry_on``. ``timeout``
    bounds each attempt in seconds (None: unbounded); enforcing it is up to
    the runner of the work (the DAG executor, the pool).
    """

    max_attempts: int = 3
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 60.0
    jitter: Jitter = "full"
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    give_up_on: tuple[type[BaseException], ...] = ()
    timeout: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise RetryPolicyError("max_attempts", self.max_attempts, "must be an integer >= 1")
        if self.base_delay < 0:
            raise RetryPolicyError("base_delay", self.base_delay, "must be >= 0")
        if self.multiplier < 1:
            raise RetryPolicyError("multiplier", self.multiplier, "must be >= 1")
        if self.max_delay < self.base_delay:
            raise RetryPolicyError("max_delay", self.max_delay, "must be >= base_delay")
        if self.jitter not in ("full", "equal", "none"):
            raise RetryPolicyError("jitter", self.jitter, "must be 'full', 'equal' or 'none'")
        if self.timeout is not None and self.timeout <= 0:
            raise RetryPolicyError("timeout", self.timeout, "must be > 0 or None")
        for field in ("retry_on", "give_up_on"):
            types = getattr(self, field)
            if not isinstance(types, tuple) or not all(
                isinstance(t, type) and issubclass(t, BaseException) for t in types
            ):
                raise RetryPolicyError(field, types, "must be a tuple of exception types")

    @classmethod
    def no_retry(cls) -> RetryPolicy:
        """A policy of one attempt."""
        return cls(max_attempts=1, base_delay=0.0, max_delay=0.0)

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The delay after failed attempt ``attempt`` (see `backoff_delay`)."""
        return backoff_delay(
            attempt, self.base_delay, self.multiplier, self.max_delay, self.jitter, rand
        )

    def is_retryable(self, error: BaseException) -> bool:
        """Whether ``error`` may be retried at all (ignoring attempts left)."""
        return isinstance(error, self.retry_on) and not isinstance(error, self.give_up_on)

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """Whether failed attempt number ``attempt`` is followed by another."""
        return attempt < self.max_attempts and self.is_retryable(error)

    def call(
        self,
        func: Callable[[], T],
        *,
        clock: Clock | None = None,
        publish: Callable[[Event], None] | None = None,
        unit: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> T:
        """Run ``func`` under this policy, sleeping between attempts.

        Each scheduled retry is published as ``retry.scheduled`` with
        ``unit``, ``attempt``, ``delay``, ``error_type`` and ``error``. The
        last error is re-raised unchanged.
        """
        if clock is None or publish is None:
            from .runtime import current_runtime

            runtime = current_runtime()
            clock = clock if clock is not None else runtime.clock
            publish = publish if publish is not None else runtime.bus.publish
        attempt = 1
        while True:
            try:
                return func()
            except Exception as exc:
                if not self.should_retry(exc, attempt):
                    raise
                delay = self.delay(attempt, rand)
                publish(
                    Event(
                        "retry.scheduled",
                        {
                            "unit": unit or getattr(func, "__qualname__", repr(func)),
                            "attempt": attempt,
                            "delay": delay,
                            "error_type": type(exc).__name__,
                            "error": str(exc),
                        },
                    )
                )
                clock.sleep(delay)
                attempt += 1


class RetryStrategy:
    """The seed's retry helper, kept for its callers."""

    @staticmethod
    def exponential_backoff(
        func: Callable[[], T],
        max_attempts: int = 3,
        base_delay: float = 1.0,
        multiplier: float = 2.0,
        jitter: bool = True,
        *,
        max_delay: float = 60.0,
        clock: Clock | None = None,
    ) -> T:
        """Call ``func`` until it succeeds or ``max_attempts`` have failed."""
        policy = RetryPolicy(
            max_attempts=max_attempts,
            base_delay=base_delay,
            multiplier=multiplier,
            max_delay=max(max_delay, base_delay),
            jitter="full" if jitter else "none",
        )
        return policy.call(func, clock=clock)
