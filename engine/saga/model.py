"""The values of a saga: its steps, its runs, their statuses and errors.

A `SagaRun` is the record of one execution of a `SagaOrchestrator`: which
steps completed (and their results), which failed, what each compensation
did, and what operators did about it. Runs are what the console lists and
what recovery resumes.
"""

from __future__ import annotations

import inspect
import traceback
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from ..jsonable import plain_or_none
from ..error_text import error_message
from .errors import SagaDefinitionError, SagaError, SagaStateError, SagaStepTimeout  # noqa: F401 - moved to errors.py; importable here too


class SagaStatus(Enum):
    """Where a saga run stands."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    FAILED = "failed"
    COMPENSATION_FAILED = "compensation_failed"


@dataclass(slots=True)
class CompensationOutcome:
    """What one compensation did.

    ``status`` is ``"compensated"``, ``"failed"``, ``"skipped"`` (the step has
    no compensation) or ``"marked_compensated"`` (an operator settled it).
    """

    step: str
    status: str
    attempts: int
    error_type: str | None = None
    error: str | None = None
    letter_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (event data, journals)."""
        return {
            "step": self.step,
            "status": self.status,
            "attempts": self.attempts,
            "error_type": self.error_type,
            "error": self.error,
            "letter_id": self.letter_id,
        }

    def __str__(self) -> str:
        if self.status == "failed":
            return f"{self.step} compensation failed ({self.error_type}: {self.error})"
        if self.status == "skipped":
            return f"{self.step} had nothing to compensate"
        return f"{self.step} {self.status.replace('_', ' ')}"


def error_fields(exc: BaseException) -> dict[str, Any]:
    """An error as event data: ``error_type``, ``error``, ``traceback`` strings."""
    return {
        "error_type": type(exc).__name__,
        "error": error_message(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def wants_context(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes the saga context: a required positional parameter
    (or ``*args``)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if (
            parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            and parameter.default is inspect.Parameter.empty
        ):
            return True
    return False


@dataclass
class SagaStep:
    """One step: ``forward`` does it, ``compensate`` undoes it.

    Either may take the saga context (a dict of the results of the steps
    completed so far, by step name). ``result`` and ``executed`` describe the
    most recent run, as in the basic API; a run's own record is its `SagaRun`.
    """

    name: str
    forward: Callable[..., Any]
    compensate: Callable[..., Any] | None
    result: Any = None
    executed: bool = False
    timeout: float | None = None
    forward_takes_context: bool = field(init=False, repr=False)
    compensate_takes_context: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.forward_takes_context = wants_context(self.forward)
        self.compensate_takes_context = (
            self.compensate is not None and wants_context(self.compensate)
        )


@dataclass
class SagaRun:
    """The record of one saga execution.

    ``completed`` lists the steps done, in order (their results are in
    ``results``); ``compensated`` the steps undone; ``outcomes`` each
    compensation's `CompensationOutcome` by step; ``notes`` what operators
    did, with who and why.
    """

    saga: str
    run_id: str
    status: SagaStatus = SagaStatus.PENDING
    results: dict[str, Any] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    compensated: list[str] = field(default_factory=list)
    outcomes: dict[str, CompensationOutcome] = field(default_factory=dict)
    failed_step: str | None = None
    error: BaseException | None = None
    timed_out: str | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None

    @property
    def failed_compensations(self) -> list[str]:
        """Steps whose compensation failed and was not resolved since."""
        return [s for s, o in self.outcomes.items() if o.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the run (console, journals)."""
        return {
            "saga": self.saga,
            "run_id": self.run_id,
            "status": self.status.value,
            "results": plain_or_none(self.results),
            "completed": list(self.completed),
            "compensated": list(self.compensated),
            "outcomes": [o.to_dict() for o in self.outcomes.values()],
            "failed_step": self.failed_step,
            "error_type": type(self.error).__name__ if self.error is not None else None,
            "error": str(self.error) if self.error is not None else None,
            "notes": list(self.notes),
            "started": self.started,
            "finished": self.finished,
        }
