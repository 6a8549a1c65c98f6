"""The attempt a dead letter's retry or replay runs in.

`_Attempt`, in a context variable, is how a unit that fails again while it is
being retried or replayed is folded into its letter (see
`DeadLetterQueue.add`); retry and replay themselves are methods of
`engine.resilience.dlq.queue.DeadLetterQueue`.
"""

from __future__ import annotations

import contextvars

from .letter import DeadLetter



class _Attempt:
    """The letter a retry or replay is running in this context.

    A unit that fails again while it is being retried calls ``add`` for the
    same source and unit; that failure is folded into this letter instead of
    making a second one, so each failure is dead-lettered exactly once.
    """

    __slots__ = ("letter", "failure")

    def __init__(self, letter: DeadLetter) -> None:
        self.letter = letter
        self.failure: BaseException | str | None = None


_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "flowconsole_dlq_attempt", default=None
)
