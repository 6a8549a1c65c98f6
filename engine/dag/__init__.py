"""DAG workflows: tasks with dependencies, run in parallel on an executor.

Holds the definition (`model`, `workflow`), one run: its scheduler, its
attempts here and elsewhere, what a failed attempt means and its state
(`run`), what an attempt sends to a remote executor (`remote`), the errors
(`errors`) and retrying dead-lettered tasks (`retry`).
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.executors`,
`engine.observe`, `engine.resilience`.
"""

from .workflow import (
    AttemptsExhaustedError,
    DAGCycleError,
    DAGRun,
    DAGValidationError,
    DAGWorkflow,
    DuplicateTaskError,
    NotCallableTaskError,
    RunCancelledError,
    RunStatus,
    RunWaitTimeout,
    Task,
    TaskContext,
    TaskSignatureError,
    TaskStatus,
    TaskTimeoutError,
    UnknownDependencyError,
    UnknownTaskError,
    WorkflowError,
    current_task,
)

__all__ = [
    "AttemptsExhaustedError",
    "DAGCycleError",
    "DAGRun",
    "DAGValidationError",
    "DAGWorkflow",
    "DuplicateTaskError",
    "NotCallableTaskError",
    "RunCancelledError",
    "RunStatus",
    "RunWaitTimeout",
    "Task",
    "TaskContext",
    "TaskSignatureError",
    "TaskStatus",
    "TaskTimeoutError",
    "UnknownDependencyError",
    "UnknownTaskError",
    "WorkflowError",
    "current_task",
]
