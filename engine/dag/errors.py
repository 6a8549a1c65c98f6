"""The errors of `engine.dag`; each names the thing at fault."""

from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from ..errors import FlowError

if TYPE_CHECKING:
    from .model import TaskStatus


class DAGValidationError(FlowError, ValueError):
    """A DAG definition is wrong; raised before anything runs."""

    def __init__(self, message: str, *, workflow: str | None = None, task_id: str | None = None) -> None:
        where = f"DAG {workflow!r}: " if workflow else ""
        super().__init__(where + message)
        self.workflow = workflow
        self.task_id = task_id


class DuplicateTaskError(DAGValidationError):
    """Two tasks were given the same id."""


class NotCallableTaskError(DAGValidationError):
    """A task's function is not callable."""


class TaskSignatureError(DAGValidationError):
    """A task's function cannot receive its dependencies' results as keywords."""

    def __init__(self, message: str, *, workflow: str | None, task_id: str, parameters: list[str]) -> None:
        super().__init__(message, workflow=workflow, task_id=task_id)
        self.parameters = parameters


class UnknownDependencyError(DAGValidationError):
    """A task depends on a task id that is not in the workflow."""

    def __init__(self, message: str, *, workflow: str | None, task_id: str, dependency: str) -> None:
        super().__init__(message, workflow=workflow, task_id=task_id)
        self.dependency = dependency


class DAGCycleError(DAGValidationError):
    """The dependencies form a cycle; ``cycle`` is its path, first node repeated last."""

    def __init__(self, cycle: list[str], *, workflow: str | None) -> None:
        super().__init__(
            "Cycle detected in DAG: " + " -> ".join(cycle), workflow=workflow, task_id=cycle[0]
        )
        self.cycle = cycle


class UnknownTaskError(FlowError, KeyError):
    """A task id was asked for that the workflow does not have."""

    def __init__(self, task_id: str, workflow: str | None) -> None:
        super().__init__(task_id)
        self.task_id = task_id
        self.workflow = workflow

    def __str__(self) -> str:
        return f"DAG {self.workflow!r} has no task {self.task_id!r}"


class TaskTimeoutError(FlowError, TimeoutError):
    """A task attempt ran longer than its timeout (its thread is abandoned, not killed)."""

    def __init__(self, task_id: str, timeout: float, attempt: int) -> None:
        super().__init__(f"task {task_id!r} attempt {attempt} exceeded its timeout of {timeout}s")
        self.task_id = task_id
        self.timeout = timeout
        self.attempt = attempt


class AttemptsExhaustedError(FlowError):
    """A task had used up its attempts before its run was interrupted (a crash, a stop), so it was not run again."""

    def __init__(self, task_id: str, attempts: int, run_id: str | None = None) -> None:
        run = f"run {run_id!r}" if run_id is not None else "its run"
        super().__init__(
            f"task {task_id!r} already used {attempts} attempt(s) in {run} before it was "
            "interrupted (an attempt cut short by a crash counts)"
        )
        self.task_id = task_id
        self.attempts = attempts
        self.run_id = run_id


class WorkflowError(FlowError):
    """A DAG run ended with failed tasks; ``errors`` maps each failed task to its error."""

    def __init__(
        self,
        workflow: str,
        run_id: str,
        errors: Mapping[str, BaseException],
        results: Mapping[str, Any],
        states: Mapping[str, TaskStatus],
    ) -> None:
        listed = "; ".join(f"{tid}: {type(e).__name__}: {e}" for tid, e in errors.items())
        super().__init__(f"DAG {workflow!r} run {run_id} failed: {listed}")
        self.workflow = workflow
        self.run_id = run_id
        self.errors = dict(errors)
        self.results = dict(results)
        self.states = dict(states)


class RunCancelledError(FlowError):
    """A DAG run was cancelled before it finished; ``results`` holds what completed."""

    def __init__(self, workflow: str, run_id: str, results: Mapping[str, Any]) -> None:
        super().__init__(f"DAG {workflow!r} run {run_id} was cancelled")
        self.workflow = workflow
        self.run_id = run_id
        self.results = dict(results)


class RunWaitTimeout(FlowError, TimeoutError):
    """`DAGRun.wait` gave up before the run finished (the run goes on)."""

    def __init__(self, run_id: str, timeout: float) -> None:
        super().__init__(f"run {run_id} did not finish within {timeout}s")
        self.run_id = run_id
        self.timeout = timeout
