"""Fallbacks: the answer a unit of work gives instead of failing.

A fallback is a value, or a callable given the error (a `CircuitOpenError`
for a rejected breaker call, else the exception the work raised). Breakers
use it for their calls and the DAG executor for tasks. Each use publishes
``fallback.used``, so a degraded answer is never silent.
"""

from __future__ import annotations

from typing import Any, Callable

from ..events import Event
from ..error_text import error_message


class _NoFallback:
    """The marker for "no fallback set" (None is a valid fallback value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_FALLBACK"


NO_FALLBACK: Any = _NoFallback()


def resolve_fallback(fallback: Any, error: BaseException) -> Any:
    """The fallback's value for ``error``: ``fallback(error)`` if callable, else ``fallback``."""
    return fallback(error) if callable(fallback) else fallback


def use_fallback(
    fallback: Any,
    error: BaseException,
    *,
    publish: Callable[[Event], None],
    source: str,
    unit: str,
    reason: str,
    workflow: str | None = None,
    run_id: str | None = None,
) -> Any:
    """Resolve ``fallback`` for ``error`` and publish ``fallback.used``.

    ``source`` is what used it (``"breaker"``, ``"task"``), ``unit`` its name,
    ``reason`` why (``"open"``: rejected by a breaker, ``"error"``: the work
    failed). If a callable fallback raises, its error propagates and no event
    is published.
    """
    value = resolve_fallback(fallback, error)
    publish(
        Event(
            "fallback.used",
            {
                "source": source,
                "unit": unit,
                "reason": reason,
                "error_type": type(error).__name__,
                "error": error_message(error),
            },
            workflow=workflow,
            run_id=run_id,
        )
    )
    return value
