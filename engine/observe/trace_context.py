"""The trace context: the current span and the current run id, per context.

Both live in `contextvars.ContextVar`s, so spans opened at once on different
threads never become each other's children, and work submitted to another
thread through ``contextvars.copy_context().run`` keeps its parent span and
its run id. `engine.observe.tracing` re-exports everything here.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .spans import Span

_current_span: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "flowconsole_span", default=None
)
_current_run: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flowconsole_run_id", default=None
)


def current_span() -> Span | None:
    """The span open in this context, or None."""
    return _current_span.get()


def current_run_id() -> str | None:
    """The id of the run this context belongs to, or None."""
    return _current_run.get()


def set_run_id(run_id: str | None) -> contextvars.Token:
    """Make ``run_id`` current; returns the token for `reset_run_id`."""
    return _current_run.set(run_id)


def reset_run_id(token: contextvars.Token) -> None:
    """Restore the run id that was current before `set_run_id`."""
    _current_run.reset(token)


@contextlib.contextmanager
def run_scope(run_id: str | None) -> Iterator[str | None]:
    """Make ``run_id`` the current run id inside the ``with`` block."""
    token = _current_run.set(run_id)
    try:
        yield run_id
    finally:
        _current_run.reset(token)
