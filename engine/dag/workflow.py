"""DAG workflows: tasks with dependencies, run in parallel on worker threads.

The basic API works as the README's example shows (``add_task``, ``validate``,
``topological_sort``, ``get_ready_tasks``, ``execute``); a task's function
receives its dependencies' results as keyword arguments named after them.
Beyond it: a run handle (`DAGWorkflow.start` returns a `DAGRun`), retries whose
backoff holds no worker, timeouts, fallbacks, ``fail_fast``/``continue``
failure policies, cancel, rerun from a task, crash-recovery hooks and a
dead-letter retrier. A run (its scheduler, attempts and failures) lives in
`engine.dag.run`, the definition checks in `engine.dag.model` and the
dead-letter retrier in `engine.dag.retry`.

Thread safety: ``_lock`` guards the task table while tasks are added and the
table of active and recent runs. A run copies the task table when it starts,
so adding tasks never disturbs a running run.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import uuid
from collections import OrderedDict, defaultdict, deque
from typing import Any, Callable, Mapping

from .model import (
    AttemptsExhaustedError,
    DAGCycleError,
    DAGValidationError,
    DuplicateTaskError,
    NotCallableTaskError,
    RunCancelledError,
    RunWaitTimeout,
    Task,
    TaskContext,
    TaskSignatureError,
    TaskStatus,
    TaskTimeoutError,
    UnknownDependencyError,
    UnknownTaskError,
    WorkflowError,
    check_graph,
    check_task,
    current_task,
)
from .retry import register_retrier, remember_failed, retry_task_letter
from .run import DAGRun, RunStatus
from ..executors.threads import Executor, current_executor
from ..resilience.fallback import NO_FALLBACK
from ..resilience.retry import RetryPolicy
from ..runtime import Runtime, current_runtime

FAILURE_POLICIES = ("fail_fast", "continue")
KEEP_RUNS = 20

_names = itertools.count(1)


class DAGWorkflow:
    """A directed acyclic graph of tasks, run in parallel as dependencies allow.

    ``failure_policy``: ``"fail_fast"`` (default) starts nothing new once a task
    has failed for good, lets running tasks finish and raises one
    `WorkflowError`; ``"continue"`` runs everything not downstream of a
    failure (downstream tasks end ``UPSTREAM_FAILED``) and raises at the end.
    ``executor`` runs the tasks (default: the one set by `use_executor` when
    a run starts, else a `ThreadExecutor` per run; a remote one such as
    `DaskExecutor` gets only the task functions, see `engine.dag.remote`).
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        runtime: Runtime | None = None,
        max_parallel: int = 4,
        failure_policy: str = "fail_fast",
        executor: Executor | None = None,
    ) -> None:
        self.name = name if name is not None else f"dag-{next(_names)}"
        self.runtime = runtime if runtime is not None else current_runtime()
        self.max_parallel = _check_parallel(self.name, max_parallel)
        self.failure_policy = _check_policy(self.name, failure_policy)
        self.executor = executor
        self.tasks: dict[str, Task] = {}
        self.graph: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._validated = False
        # Tasks added after all their dependencies cannot close a cycle or
        # name an unknown task: while every task was, and nothing else wrote
        # to ``tasks``, `validate` has nothing to check (see `_checked`).
        self._in_order = True
        self._added = 0
        self._active: dict[str, DAGRun] = {}
        self._recent: OrderedDict[str, DAGRun] = OrderedDict()
        register_retrier(self.runtime, DAGWorkflow)

    # -- the definition (the basic API) -------------------------------------

    def add_task(
        self,
        task_id: str,
        func: Callable[..., Any],
        depends_on: list[str] | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        fallback: Any = NO_FALLBACK,
        local: bool = False,
    ) -> Task:
        """Add a task; ``func`` gets each dependency's result as a keyword argument.

        ``retry`` retries failed attempts (the backoff holds no worker);
        ``timeout`` fails an attempt that runs longer, in seconds; ``fallback``
        is the result used when the task fails for good: a value, or a callable
        given the error. ``local`` keeps the task in this process on a remote
        executor (Dask): a task that uses the engine's runtime, its bus or a
        circuit breaker must run where they live. Refuses duplicate ids, non-callables and functions that
        cannot receive their dependencies' results (`DAGValidationError`).
        """
        deps = list(depends_on or [])
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise DAGValidationError(
                f"task {task_id!r}: retry must be a RetryPolicy, got {retry!r}",
                workflow=self.name, task_id=task_id,
            )
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise DAGValidationError(
                f"task {task_id!r}: timeout must be a positive number of seconds, got {timeout!r}",
                workflow=self.name, task_id=task_id,
            )
        with self._lock:
            check_task(self.name, self.tasks, task_id, func, deps)
            task = Task(
                id=task_id, func=func, depends_on=deps, retry=retry, timeout=timeout, fallback=fallback,
                local=bool(local),
            )
            tasks = self.tasks
            if self._in_order and not all(dep in tasks for dep in deps):
                self._in_order = False
            tasks[task_id] = task
            self._added += 1
            for dep in deps:
                self.graph[dep].append(task_id)
            self._validated = False
        return task

    def validate(self) -> bool:
        """Check the whole graph (unknown dependencies, cycles); True if it is sound.

        A graph whose every task was added after its dependencies is sound by
        construction, and is not walked (a 100,000-task walk touches memory
        no cache holds: about 3 µs a task).
        """
        if not self._validated:
            if not self._checked():
                check_graph(self.name, self.tasks)
            self._validated = True
        return True

    def _checked(self) -> bool:
        """Whether the graph is sound by construction: every task was added after its dependencies."""
        return self._in_order and self._added == len(self.tasks)

    def topological_sort(self) -> list[str]:
        """Task ids in an order that runs every task after its dependencies."""
        self.validate()
        in_degree = {tid: len(t.depends_on) for tid, t in self.tasks.items()}
        queue = deque(tid for tid, degree in in_degree.items() if degree == 0)
        order: list[str] = []
        while queue:
            tid = queue.popleft()
            order.append(tid)
            for child in self.graph.get(tid, ()):
                in_degree[child] -= 1
                if in_degree[child] == 0:
                    queue.append(child)
        return order

    def get_ready_tasks(self) -> list[Task]:
        """Tasks whose status is PENDING and whose dependencies all COMPLETED (last run's view)."""
        tasks = self.tasks
        return [
            t for t in tasks.values()
            if t.status is TaskStatus.PENDING
            and all(tasks[d].status is TaskStatus.COMPLETED for d in t.depends_on if d in tasks)
        ]

    def spec(self) -> dict[str, Any]:
        """The shape of the DAG, for drawing: ``{"tasks": {task_id: [deps]}}``."""
        return {"tasks": {tid: list(t.depends_on) for tid, t in self.tasks.items()}}

    # -- running -------------------------------------------------------------

    def execute(self, max_parallel: int | None = None) -> dict[str, Any]:
        """Run the DAG on this thread and return ``{task_id: result}``.

        Raises `WorkflowError` (carrying every failed task's error) if a task
        failed for good.
        """
        run = self._new_run(max_parallel=max_parallel)
        contextvars.copy_context().run(run._begin)
        return run.wait()

    def start(
        self,
        *,
        max_parallel: int | None = None,
        failure_policy: str | None = None,
        run_id: str | None = None,
        restored_results: Mapping[str, Any] | None = None,
        prior_attempts: Mapping[str, int] | None = None,
    ) -> DAGRun:
        """Start a run in the background and return its handle.

        ``restored_results`` (crash recovery, rerun) are taken as the results
        of those tasks, which do not run (``task.restored``);
        ``prior_attempts`` count toward each task's maximum attempts, so a task
        that already used them all is dead-lettered without running again.
        """
        run = self._new_run(
            max_parallel=max_parallel, failure_policy=failure_policy, run_id=run_id,
            restored_results=restored_results, prior_attempts=prior_attempts,
        )
        contextvars.copy_context().run(run._begin)
        return run

    def rerun_from(
        self, task_id: str, previous_run: DAGRun | str, *, max_parallel: int | None = None
    ) -> DAGRun:
        """Start a run that re-executes ``task_id`` and everything downstream of it.

        Every other task that completed in ``previous_run`` (a `DAGRun` or a
        run id of one of the last runs) keeps its result; those that did not
        complete run again.
        """
        if task_id not in self.tasks:
            raise UnknownTaskError(task_id, self.name)
        previous = self._find_run(previous_run)
        downstream = {task_id}
        stack = [task_id]
        while stack:
            for child in self.graph.get(stack.pop(), ()):
                if child not in downstream:
                    downstream.add(child)
                    stack.append(child)
        prior_states = previous.states
        prior_results = previous.results
        restored = {
            tid: prior_results[tid]
            for tid, state in prior_states.items()
            if state is TaskStatus.COMPLETED and tid not in downstream and tid in self.tasks
        }
        return self.start(max_parallel=max_parallel, restored_results=restored)

    def cancel(self, run_id: str) -> bool:
        """Cancel the active run ``run_id``; False if no such run is active."""
        with self._lock:
            run = self._active.get(run_id)
        if run is None:
            return False
        run.cancel()
        return True

    def active_runs(self) -> list[DAGRun]:
        """The runs started and not yet finished."""
        with self._lock:
            return list(self._active.values())

    def recent_runs(self) -> list[DAGRun]:
        """The last finished runs, oldest first."""
        with self._lock:
            return list(self._recent.values())

    # -- run bookkeeping ------------------------------------------------------

    def _new_run(
        self,
        *,
        max_parallel: int | None = None,
        failure_policy: str | None = None,
        run_id: str | None = None,
        restored_results: Mapping[str, Any] | None = None,
        prior_attempts: Mapping[str, int] | None = None,
    ) -> DAGRun:
        self.validate()
        restored = dict(restored_results or {})
        prior = dict(prior_attempts or {})
        for tid in (*restored, *prior):
            if tid not in self.tasks:
                raise UnknownTaskError(tid, self.name)
        run = DAGRun(
            self,
            run_id or uuid.uuid4().hex[:16],
            max_parallel=_check_parallel(self.name, max_parallel or self.max_parallel),
            failure_policy=_check_policy(self.name, failure_policy or self.failure_policy),
            executor=self.executor if self.executor is not None else current_executor(),
            restored_results=restored,
            prior_attempts=prior,
        )
        with self._lock:
            self._active[run.run_id] = run
        return run

    def _find_run(self, run: DAGRun | str) -> DAGRun:
        if isinstance(run, DAGRun):
            return run
        with self._lock:
            found = self._recent.get(run) or self._active.get(run)
        if found is None:
            raise DAGValidationError(f"no recent run with id {run!r}", workflow=self.name)
        return found

    def _run_finished(self, run: DAGRun) -> None:
        """Record a finished run; the Task objects show it (the basic API reads them)."""
        states, results, errors = run._states, run._results, run._errors
        with self._lock:
            self._active.pop(run.run_id, None)
            self._recent[run.run_id] = run
            while len(self._recent) > KEEP_RUNS:
                self._recent.popitem(last=False)
            for tid, task in self.tasks.items():
                if tid in states:
                    task.status = states[tid]
                    task.result = results.get(tid)
                    task.error = errors.get(tid)

    def _remember_failure(self) -> None:
        remember_failed(self)

    def __repr__(self) -> str:
        return f"DAGWorkflow({self.name!r}, tasks={len(self.tasks)})"


def _check_parallel(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DAGValidationError(f"max_parallel must be an integer >= 1, got {value!r}", workflow=name)
    return value


def _check_policy(name: str, value: Any) -> str:
    if value not in FAILURE_POLICIES:
        raise DAGValidationError(
            f"failure_policy must be one of {FAILURE_POLICIES}, got {value!r}", workflow=name
        )
    return value


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
    "retry_task_letter",
]
