"""The errors of `engine.saga`; each names the thing at fault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..error_text import error_line
from ..errors import FlowError

if TYPE_CHECKING:
    from .model import CompensationOutcome, SagaStatus


class SagaDefinitionError(FlowError, ValueError):
    """A saga was defined (or resumed) with input that cannot work."""

    def __init__(self, saga: str, message: str) -> None:
        super().__init__(f"saga {saga!r}: {message}")
        self.saga = saga


class SagaStateError(FlowError, ValueError):
    """An operator action does not apply to the saga run in its current status."""

    def __init__(self, saga: str, run_id: str, message: str) -> None:
        super().__init__(f"saga {saga!r} run {run_id!r}: {message}")
        self.saga = saga
        self.run_id = run_id


class SagaStepTimeout(FlowError, TimeoutError):
    """A saga step ran longer than its timeout."""

    def __init__(self, saga: str, step: str, timeout: float) -> None:
        super().__init__(f"saga {saga!r} step {step!r} timed out after {timeout}s")
        self.saga = saga
        self.step = step
        self.timeout = timeout


class SagaError(FlowError):
    """A saga run failed; ``failed_step``, ``error`` and ``compensations`` say how.

    ``compensations`` lists a `CompensationOutcome` per compensated step, in
    the order they ran; ``status`` is the run's final status.
    """

    def __init__(
        self,
        saga: str,
        run_id: str,
        failed_step: str | None,
        error: BaseException | None,
        compensations: list[CompensationOutcome],
        status: SagaStatus,
    ) -> None:
        where = f"at step {failed_step!r}" if failed_step else "before resuming"
        cause = f": {error_line(error)}" if error is not None else ""
        undone = "; ".join(str(c) for c in compensations) or "nothing to compensate"
        super().__init__(
            f"Saga '{saga}' failed {where}{cause}; {undone}; status {status.value}"
        )
        self.saga = saga
        self.run_id = run_id
        self.failed_step = failed_step
        self.error = error
        self.compensations = compensations
        self.status = status


class ChoreographyError(FlowError, ValueError):
    """A choreography was given an event or a registration that cannot work."""
