"""Retry policies: one value that says how a failed unit of work is retried.

`RetryPolicy` is used wherever work can fail: DAG tasks, saga steps and
compensations, event handlers and pool tasks. The delay before each retry is
computed by the pure function `backoff_delay`, so tests check it against its
bounds; `RetryStrategy.exponential_backoff` is the basic API's blocking helper,
which sleeps through an injectable clock and reports each scheduled retry as a
``retry.scheduled`` event instead of printing; `RetryPolicy.call` also reports
giving up as ``retry.gave_up`` and hands the last error to ``on_give_up``, where
a caller dead-letters the unit.

Per-attempt timeouts (``RetryPolicy.timeout``) are enforced by
`RetryPolicy.call` honestly but with two limits: the attempt runs on a thread
of its own and is waited for in real time (a thread cannot be waited on
through a fake clock), and an attempt that times out is abandoned, not
stopped: Python cannot kill a thread, so it runs to its end in the background
and its result is discarded.
"""

from __future__ import annotations

import contextvars
import functools
import random
import threading
from dataclasses import dataclass
from typing import Any, Callable, Literal, TypeVar

from ..clock import Clock
from ..events import Event
from ..error_text import error_message
from .errors import AttemptTimeoutError, RetryPolicyError

T = TypeVar("T")
Jitter = Literal["full", "equal", "none"]


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
        for field in ("retry_on", "give_up_on"):
            types = getattr(self, field)
            # A single type or a list is what people write; keep the value a tuple.
            if isinstance(types, type):
                object.__setattr__(self, field, (types,))
            elif isinstance(types, list):
                object.__setattr__(self, field, tuple(types))
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
        on_give_up: Callable[[BaseException, int], None] | None = None,
        workflow: str | None = None,
        run_id: str | None = None,
    ) -> T:
        """Run ``func`` under this policy, sleeping between attempts.

        Each scheduled retry is published as ``retry.scheduled`` with
        ``unit``, ``attempt``, ``delay``, ``error_type`` and ``error``. When
        the policy gives up (attempts exhausted, or an error it does not
        retry) after more than one attempt or with ``on_give_up`` set, it
        publishes ``retry.gave_up`` and calls ``on_give_up(error,
        attempts)`` (where a caller dead-letters the unit); then the last
        error is re-raised unchanged. With ``timeout`` set, each attempt is
        bounded (see the module's note on its limits) and a late one fails
        with `AttemptTimeoutError`. The clock and bus default to the current
        runtime's, looked up only once an attempt fails.
        """
        timeout = self.timeout
        attempt = 1
        while True:
            try:
                if timeout is None:
                    return func()
                return _run_bounded(func, timeout, unit, attempt)
            except Exception as exc:
                if clock is None or publish is None:
                    from ..runtime import current_runtime

                    runtime = current_runtime()
                    clock = clock if clock is not None else runtime.clock
                    publish = publish if publish is not None else runtime.bus.publish
                name = unit or getattr(func, "__qualname__", repr(func))
                if not self.should_retry(exc, attempt):
                    if attempt > 1 or on_give_up is not None:
                        publish(_gave_up_event(name, attempt, exc, self, workflow, run_id))
                    if on_give_up is not None:
                        on_give_up(exc, attempt)
                    raise
                delay = self.delay(attempt, rand)
                publish(
                    Event(
                        "retry.scheduled",
                        {
                            "unit": name,
                            "attempt": attempt,
                            "delay": delay,
                            "error_type": type(exc).__name__,
                            "error": error_message(exc),
                        },
                        workflow=workflow,
                        run_id=run_id,
                    )
                )
                clock.sleep(delay)
                attempt += 1


def _gave_up_event(
    unit: str, attempts: int, exc: BaseException, policy: RetryPolicy, workflow: str | None, run_id: str | None
) -> Event:
    return Event(
        "retry.gave_up",
        {
            "unit": unit,
            "attempts": attempts,
            "reason": "exhausted" if policy.is_retryable(exc) else "not_retryable",
            "error_type": type(exc).__name__,
            "error": error_message(exc),
        },
        workflow=workflow,
        run_id=run_id,
    )


def _run_bounded(func: Callable[[], T], timeout: float, unit: str | None, attempt: int) -> T:
    """Run ``func`` on a thread of its own and wait at most ``timeout`` real seconds."""
    done = threading.Event()
    outcome: list[tuple[bool, Any]] = []
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome.append((True, context.run(func)))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome.append((False, exc))
        finally:
            done.set()

    name = unit or getattr(func, "__qualname__", "attempt")
    threading.Thread(target=run, name=f"retry-attempt-{name}", daemon=True).start()
    if not done.wait(timeout):
        raise AttemptTimeoutError(name, timeout, attempt)
    ok, value = outcome[0]
    if ok:
        return value
    raise value


class RetryStrategy:
    """The basic API's retry helper, kept for its callers."""

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
        """Call ``func`` until it succeeds or ``max_attempts`` have failed.

        ``jitter=True`` is full jitter.
        """
        policy = _helper_policy(max_attempts, base_delay, multiplier, max(max_delay, base_delay), bool(jitter))
        return policy.call(func, clock=clock)


@functools.lru_cache(maxsize=128)
def _helper_policy(
    max_attempts: int, base_delay: float, multiplier: float, max_delay: float, jitter: bool
) -> RetryPolicy:
    # Policies are immutable values, so the helper's callers, who pass
    # the same arguments on every call, can share one instead of validating anew.
    return RetryPolicy(
        max_attempts=max_attempts,
        base_delay=base_delay,
        multiplier=multiplier,
        max_delay=max_delay,
        jitter="full" if jitter else "none",
    )
