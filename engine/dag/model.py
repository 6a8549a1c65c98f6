"""The DAG definition: tasks, their states, and what makes a definition wrong.

Everything here is about the *shape* of a workflow, checked before anything
runs: duplicate ids, non-callables and functions that cannot receive their
dependencies' results are refused by ``add_task``; unknown dependencies and
cycles by `check_graph`, which costs O(V+E).
"""

from __future__ import annotations

import contextvars
import graphlib
import inspect
import reprlib
import traceback
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, NamedTuple

from ..resilience.fallback import NO_FALLBACK
from ..resilience.retry import RetryPolicy
from ..error_text import error_message
from .errors import DAGCycleError, DAGValidationError, DuplicateTaskError, NotCallableTaskError, TaskSignatureError, UnknownDependencyError
from .errors import AttemptsExhaustedError, RunCancelledError, RunWaitTimeout, TaskTimeoutError, UnknownTaskError, WorkflowError  # noqa: F401 - moved to errors.py; importable here too


class TaskStatus(Enum):
    """Where one task of one run stands."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


# Plain module names for the statuses: the scheduler compares them by
# identity on every task, and a global is cheaper than an enum attribute.
PENDING = TaskStatus.PENDING
RUNNING = TaskStatus.RUNNING
RETRYING = TaskStatus.RETRYING
COMPLETED = TaskStatus.COMPLETED
FAILED = TaskStatus.FAILED
UPSTREAM_FAILED = TaskStatus.UPSTREAM_FAILED
SKIPPED = TaskStatus.SKIPPED
CANCELLED = TaskStatus.CANCELLED


FINISHED_STATES = frozenset(
    {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.UPSTREAM_FAILED,
        TaskStatus.SKIPPED,
        TaskStatus.CANCELLED,
    }
)

@dataclass(slots=True)
class Task:
    """One task of a DAG: its function, dependencies and failure handling.

    ``status``, ``result`` and ``error`` show the most recent finished run of
    the workflow (the basic API reads them); a run keeps its own states and never
    reads these.
    """

    id: str
    func: Callable[..., Any]
    depends_on: list[str] = field(default_factory=list)
    status: TaskStatus = TaskStatus.PENDING
    result: Any = None
    error: BaseException | None = None
    retry: RetryPolicy | None = None
    timeout: float | None = None
    fallback: Any = NO_FALLBACK
    local: bool = False

    @property
    def has_fallback(self) -> bool:
        return self.fallback is not NO_FALLBACK

    @property
    def attempt_timeout(self) -> float | None:
        """The per-attempt timeout: the task's own, else its retry policy's."""
        if self.timeout is not None:
            return self.timeout
        return self.retry.timeout if self.retry is not None else None

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts if self.retry is not None else 1


# -- event helpers ----------------------------------------------------------------

_SIMPLE = (type(None), bool, int, float)
_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60

def preview(value: Any) -> str:
    """A short repr of a result, for events and screens."""
    if value.__class__ in _SIMPLE:
        return repr(value)
    return _repr.repr(value)


def error_fields(exc: BaseException) -> dict[str, str]:
    """The ``error_type``, ``error`` and ``traceback`` strings of an event."""
    return {
        "error_type": type(exc).__name__,
        "error": error_message(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


# -- a run's attempts ----------------------------------------------------------


class ReadyAttempt(NamedTuple):
    """An attempt a run made ready: the task, its attempt number and its inputs."""

    task: Task
    attempt: int
    inputs: dict[str, Any]


class AttemptOutcome(NamedTuple):
    """How an attempt ended: ``ok`` with its result as ``value``, or not with the error."""

    task_id: str
    attempt: int
    ok: bool
    value: Any
    duration: float
    span_id: str | None


# -- the running task's identity ----------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskContext:
    """Who the running task is; ``idempotency_key`` is stable across its attempts."""

    run_id: str
    task_id: str
    attempt: int

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.task_id}"


# Holds (run_id, task_id, attempt): a tuple is cheaper to set per task than a
# dataclass, and current_task() builds the value only when asked.
_current_task: contextvars.ContextVar[tuple[str, str, int] | None] = contextvars.ContextVar(
    "flowconsole_task", default=None
)


def current_task() -> TaskContext | None:
    """The DAG task running in this context (None outside a task)."""
    value = _current_task.get()
    return TaskContext(*value) if value is not None else None


# -- checks -------------------------------------------------------------------


def check_signature(workflow: str | None, task_id: str, func: Callable[..., Any], deps: list[str]) -> None:
    """Refuse a function that cannot be called with ``deps`` as keyword arguments."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return  # some builtins have no signature to check; the call will tell
    params = signature.parameters.values()
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    keywords = {
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    names = [p.name for p in params]
    unreceivable = [d for d in deps if d not in keywords and not takes_any]
    if unreceivable:
        raise TaskSignatureError(
            f"task {task_id!r}: function {_name(func)}({', '.join(names)}) has no keyword "
            f"parameter for the result of dependency {', '.join(map(repr, unreceivable))}",
            workflow=workflow, task_id=task_id, parameters=names,
        )
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and p.name not in deps
    ]
    if missing:
        raise TaskSignatureError(
            f"task {task_id!r}: function {_name(func)} requires {', '.join(map(repr, missing))}, "
            f"which {'is' if len(missing) == 1 else 'are'} not among its dependencies {deps}",
            workflow=workflow, task_id=task_id, parameters=names,
        )


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)


def check_graph(workflow: str | None, tasks: Mapping[str, Task]) -> None:
    """Refuse unknown dependencies and cycles (the cycle's path is in the error)."""
    remaining: dict[str, int] = {}
    children: dict[str, list[str]] = {tid: [] for tid in tasks}
    for tid, task in tasks.items():
        deps = task.depends_on
        remaining[tid] = len(deps)
        for dep in deps:
            siblings = children.get(dep)
            if siblings is None:
                raise UnknownDependencyError(
                    f"task {tid!r} depends on unknown task {dep!r}",
                    workflow=workflow, task_id=tid, dependency=dep,
                )
            siblings.append(tid)
    # Kahn's algorithm: a sound graph drains completely. It is a few times
    # cheaper than graphlib's prepare(), which searches for a cycle up front;
    # graphlib is asked only to name the cycle once one is known to exist.
    stack = [tid for tid, n in remaining.items() if n == 0]
    pop, push = stack.pop, stack.append
    drained = 0
    while stack:
        drained += 1
        for child in children[pop()]:
            left = remaining[child] - 1
            remaining[child] = left
            if left == 0:
                push(child)
    if drained == len(tasks):
        return
    sorter = graphlib.TopologicalSorter({tid: t.depends_on for tid, t in tasks.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib lists the cycle so that each node is a dependency of the
        # next: execution order, first node repeated last.
        raise DAGCycleError(list(exc.args[1]), workflow=workflow) from None


def check_task(
    workflow: str | None,
    tasks: Mapping[str, Task],
    task_id: Any,
    func: Any,
    deps: list[str],
) -> None:
    """The checks ``add_task`` makes before it accepts a task."""
    if not isinstance(task_id, str) or not task_id:
        raise DAGValidationError(f"task id must be a non-empty string, got {task_id!r}", workflow=workflow)
    if task_id in tasks:
        raise DuplicateTaskError(f"task {task_id!r} is already defined", workflow=workflow, task_id=task_id)
    if not callable(func):
        raise NotCallableTaskError(
            f"task {task_id!r}: function {func!r} is not callable", workflow=workflow, task_id=task_id
        )
    if len(set(deps)) != len(deps):
        raise DAGValidationError(
            f"task {task_id!r} lists a dependency twice: {deps}", workflow=workflow, task_id=task_id
        )
    if task_id in deps:
        raise DAGCycleError([task_id, task_id], workflow=workflow)
    check_signature(workflow, task_id, func, deps)
