"""What a DAG attempt sends to a remote executor: a `TaskCall`.

A remote executor (``executor.remote`` is true, e.g. `DaskExecutor`) runs
work in places that cannot publish to this process's bus, use its tracer or
read its clock. So only a `TaskCall` (the task's function, its inputs and its
identity) travels; `engine.dag.run.DAGRun` keeps the attempt's span, events,
timing and timeout, and takes the outcome from the executor's future.
"""

from __future__ import annotations

from typing import Any, Callable

from .model import _current_task


class TaskCall:
    """One attempt of a DAG task as sent to a remote executor (picklable).

    Calling it runs ``func(**inputs)`` with `current_task` set, wherever it
    runs. ``label`` (the task id) names the work on the cluster's dashboard;
    ``description`` names it in errors.
    """

    __slots__ = ("workflow", "run_id", "task_id", "attempt", "func", "inputs")

    def __init__(
        self, workflow: str, run_id: str, task_id: str, attempt: int,
        func: Callable[..., Any], inputs: dict[str, Any],
    ) -> None:
        self.workflow = workflow
        self.run_id = run_id
        self.task_id = task_id
        self.attempt = attempt
        self.func = func
        self.inputs = inputs

    @property
    def label(self) -> str:
        return self.task_id

    @property
    def description(self) -> str:
        return f"task {self.task_id!r} of workflow {self.workflow!r}"

    def __call__(self) -> Any:
        token = _current_task.set((self.run_id, self.task_id, self.attempt))
        try:
            return self.func(**self.inputs)
        finally:
            _current_task.reset(token)

    def __repr__(self) -> str:
        return f"TaskCall({self.workflow!r}, {self.task_id!r}, attempt={self.attempt})"
