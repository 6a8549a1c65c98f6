"""One run of a DAG: the scheduler and the run's own state (attempts: `engine.dag.attempts`).

The scheduler keeps an in-degree counter per task and a ready queue, so the
whole run costs O(V+E): a task is submitted the moment its last dependency
completes, up to ``max_parallel`` at once, and nothing is ever rescanned.

There is no coordinator thread. Whichever thread finishes an attempt (a
worker) or fires a timer records the outcome and submits what became ready;
a worker keeps one newly ready task for itself, so a chain runs without any
hand-off between threads (`engine.dag.attempts`). Each attempt runs in a
fresh copy of the context the run was started in. On a remote executor
(Dask) only the task's function travels; see `engine.dag.remote`.

Thread safety: ``DAGRun._lock`` guards every field of a run's state (states,
results, errors, attempts, the ready queue, retry timers, ``_settling``);
task functions run outside it. A finished attempt is appended to
``_outcomes`` (a deque: appends need no lock) and recorded by whichever
thread holds the lock next: workers only ever try the lock, and every holder
settles the queue after releasing it (`engine.dag.settling` says why). Events
about a task are published under the lock, so a task's ``task.completed``
always precedes its dependents' ``task.started``. ``_done`` (a
`threading.Event`) tells waiters the run ended.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, Mapping

from .model import (
    AttemptOutcome,
    ReadyAttempt,
    COMPLETED,
    PENDING,
    RUNNING,
    AttemptsExhaustedError,
    RunCancelledError,
    RunWaitTimeout,
    Task,
    TaskStatus,
    WorkflowError,
    preview,
)
from ..clock import SystemClock
from .attempts import LocalAttempts
from .failures import FailureHandling
from .remote import RemoteAttempts
from .settling import Settling
from ..events import correlated_event
from ..executors.threads import Executor, ThreadExecutor, TimerHandle, Timers
from ..observe.tracing import set_run_id

if TYPE_CHECKING:
    from .workflow import DAGWorkflow

log = logging.getLogger("engine.dag")


class RunStatus(Enum):
    """Where a whole run stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DAGRun(Settling, FailureHandling, LocalAttempts, RemoteAttempts):
    """A handle on one run of a `DAGWorkflow`.

    ``run_id`` names the run; ``states`` and ``results`` are snapshots of where
    its tasks stand; ``wait`` blocks until it ends; ``cancel`` stops it (tasks
    not started are cancelled, running ones finish: a thread cannot be killed).
    """

    def __init__(
        self,
        workflow: DAGWorkflow,
        run_id: str,
        *,
        max_parallel: int,
        failure_policy: str,
        executor: Executor | None,
        restored_results: Mapping[str, Any],
        prior_attempts: Mapping[str, int],
    ) -> None:
        self.workflow = workflow
        self.name = workflow.name
        self.run_id = run_id
        self.max_parallel = max_parallel
        self.failure_policy = failure_policy
        self.status = RunStatus.RUNNING
        runtime = workflow.runtime
        self._runtime = runtime
        self._tracer = runtime.tracer
        self._publish = runtime.bus.publish
        self._clock = runtime.clock
        # The system clock only forwards to time.monotonic: skip the hop.
        self._monotonic = time.monotonic if isinstance(self._clock, SystemClock) else self._clock.monotonic
        self._tasks: dict[str, Task] = dict(workflow.tasks)
        # Tuples of strings: the garbage collector stops tracking them, which
        # keeps full collections cheap on a 100,000-task run.
        graph = workflow.graph
        self._children: dict[str, tuple[str, ...]] = {tid: tuple(graph.get(tid, ())) for tid in self._tasks}
        self._restored = dict(restored_results)
        self._prior = dict(prior_attempts)
        self._own_executor = executor is None
        # Spare threads let the run move on past attempts abandoned by a
        # timeout, whose threads cannot be killed.
        self._executor: Executor = executor or ThreadExecutor(max_parallel * 2, name=f"dag-{self.name}")
        self._run_soon = getattr(self._executor, "run_soon", None)
        self._remote = bool(getattr(self._executor, "remote", False))
        self._timers = Timers(self._clock, name=f"dag-timers-{run_id}")
        # Reentrant: a subscriber of an event published under the lock may
        # read the run's snapshots (or cancel it) on the same thread.
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._states: dict[str, TaskStatus] = dict.fromkeys(self._tasks, PENDING)
        self._remaining = {tid: len(t.depends_on) for tid, t in self._tasks.items()}
        self._results: dict[str, Any] = {}
        self._errors: dict[str, BaseException] = {}
        self._attempts: dict[str, int] = {}
        self._live: dict[str, int] = {}
        self._retry_timers: dict[str, TimerHandle] = {}
        self._ready: deque[str] = deque()
        # Finished attempts not yet recorded (see `_settle`); appended without the lock.
        self._outcomes: deque[AttemptOutcome] = deque()
        self._settling = False
        self._stopping: str | None = None
        self._finishing = False
        self._finish_now = False
        self._span: Any = None
        self._trace_id: str | None = None
        self._started = self._clock.monotonic()

    # -- the public handle -------------------------------------------------

    @property
    def states(self) -> dict[str, TaskStatus]:
        """Each task's state (a snapshot)."""
        return self._snapshot(self._states)

    @property
    def results(self) -> dict[str, Any]:
        """The results of the tasks completed so far (a snapshot)."""
        return self._snapshot(self._results)

    @property
    def errors(self) -> dict[str, BaseException]:
        """The error of each task that failed for good (a snapshot)."""
        return self._snapshot(self._errors)

    @property
    def attempts(self) -> dict[str, int]:
        """How many attempts each task has made, counting earlier runs' (a snapshot)."""
        return self._snapshot(self._attempts)

    def _snapshot(self, mapping: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            copy = dict(mapping)
        # Every holder of the lock settles after releasing it (see `_settle`).
        self._settle()
        return copy

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the run ends; returns ``{task_id: result}``.

        Raises `WorkflowError` if tasks failed, `RunCancelledError` if the run
        was cancelled, `RunWaitTimeout` if ``timeout`` passed first.
        """
        if not self._done.wait(timeout):
            raise RunWaitTimeout(self.run_id, timeout or 0.0)
        if self.status is RunStatus.CANCELLED:
            raise RunCancelledError(self.name, self.run_id, self._results)
        if self.status is RunStatus.FAILED:
            raise WorkflowError(self.name, self.run_id, self._errors, self._results, self._states)
        return dict(self._results)

    def cancel(self) -> None:
        """Start nothing more; tasks not started end ``CANCELLED``."""
        with self._lock:
            self._stop("cancelled")
            submit = self._take_ready()
        self._proceed(submit)
        self._settle()

    def __repr__(self) -> str:
        return f"DAGRun({self.name!r}, run_id={self.run_id!r}, status={self.status.value})"

    # -- scheduling (see the module docstring) -----------------------------------

    def _begin(self) -> None:
        """Publish ``run.started`` and submit the first tasks (once, at start)."""
        set_run_id(self.run_id)
        # Every attempt runs in a fresh copy of this context: the starter's
        # context variables, the run id, and nothing a previous task set.
        self._base_context = contextvars.copy_context()
        span = self._tracer.start_span(
            f"run:{self.name}", {"workflow": self.name, "run_id": self.run_id}, parent=None
        )
        self._span = span
        self._trace_id = span.trace_id
        self._emit("run.started", {
            "tasks": {tid: list(t.depends_on) for tid, t in self._tasks.items()},
            "max_parallel": self.max_parallel,
            "failure_policy": self.failure_policy,
        })
        with self._lock:
            states = self._states
            for tid, value in self._restored.items():
                states[tid] = COMPLETED
                self._results[tid] = value
                self._emit("task.restored", {"task": tid, "result_preview": preview(value)})
            for tid in self._restored:
                self._release_children(tid)
            # Releasing restored tasks queued some children already; start
            # from one scan so that no task is queued twice.
            self._ready.clear()
            self._ready.extend(
                tid for tid, n in self._remaining.items() if n == 0 and states[tid] is PENDING
            )
            submit = self._take_ready()
        self._proceed(submit)
        self._settle()

    def _take_ready(self) -> list[ReadyAttempt]:
        """Claim ready tasks up to the free slots (holding ``_lock``).

        When nothing is left to run, wait for or retry, marks the run as
        finishing; the caller then ends it in `_proceed`, outside the lock.
        """
        ready = self._ready
        if self._stopping:
            ready.clear()
        live = self._live
        limit = self.max_parallel
        if not ready or len(live) >= limit:
            if not ready and not live and not self._retry_timers and not self._finishing:
                self._finishing = self._finish_now = True
            return []
        out: list[ReadyAttempt] = []
        tasks = self._tasks
        results = self._results
        attempts = self._attempts
        states = self._states
        prior = self._prior
        while ready and len(live) < limit:
            tid = ready.popleft()
            task = tasks[tid]
            attempt = attempts.get(tid, prior.get(tid, 0)) + 1
            if attempt > 1 and attempt > task.max_attempts:
                # Earlier runs that crashed used the attempts up: a poison task.
                self._fail(tid, AttemptsExhaustedError(tid, attempt - 1), attempt - 1, None)
                continue
            attempts[tid] = attempt
            live[tid] = attempt
            states[tid] = RUNNING
            deps = task.depends_on
            out.append(ReadyAttempt(task, attempt, {dep: results[dep] for dep in deps} if deps else {}))
        if not out and not live and not ready and not self._retry_timers and not self._finishing:
            self._finishing = self._finish_now = True
        return out

    def _proceed(self, batch: list[ReadyAttempt]) -> None:
        """Submit what `_take_ready` claimed, or end the run if it said so."""
        if batch:
            run_soon = self._run_soon
            if run_soon is not None:
                # No future needed: the attempt reports its own outcome.
                drive = self._drive
                for item in batch:
                    try:
                        run_soon(partial(drive, *item))
                    except Exception as exc:  # noqa: BLE001 - a refused submission fails the task
                        self._outcome(item[0].id, item[1], False, exc, 0.0, None)
                return
            if self._remote:
                self._submit_remote(batch)
                return
            submit = self._executor.submit
            attempt_fn = self._attempt
            on_done = self._on_done
            for task, attempt, inputs in batch:
                try:
                    # One callable and no arguments: any Executor, a WorkerPool
                    # included (its second positional parameter is a priority).
                    future = submit(partial(self._base_context.copy().run, attempt_fn, task, attempt, inputs))
                except Exception as exc:  # noqa: BLE001 - a refused submission fails the task
                    self._outcome(task.id, attempt, False, exc, 0.0, None)
                    continue
                future.add_done_callback(lambda f, t=task.id, a=attempt: on_done(f, t, a))
        elif self._finish_now:
            self._finish_now = False
            self._finish()

    def _retry_due(self, tid: str) -> None:
        with self._lock:
            if self._retry_timers.pop(tid, None) is not None and not self._stopping:
                self._ready.append(tid)
            submit = self._take_ready()
        self._proceed(submit)
        self._settle()

    # -- state changes (all under ``_lock``) -----------------------------------

    def _complete(
        self, tid: str, attempt: int, value: Any, duration: float, span_id: str | None, fallback: bool = False
    ) -> None:
        self._states[tid] = COMPLETED
        self._results[tid] = value
        data = {
            "task": tid, "attempt": attempt, "duration": duration,
            "result": value, "result_preview": preview(value),
        }
        if fallback:
            data["fallback"] = True
        self._publish(correlated_event("task.completed", data, (self.name, self.run_id, self._trace_id, span_id)))
        self._release_children(tid)

    def _release_children(self, tid: str) -> None:
        remaining = self._remaining
        states = self._states
        ready = self._ready
        for child in self._children[tid]:
            left = remaining[child] - 1
            remaining[child] = left
            if left == 0 and states[child] is PENDING:
                ready.append(child)

    def _finish(self) -> None:
        duration = self._clock.monotonic() - self._started
        # list.count compares by identity in C; an enum's value and hash are
        # Python-level calls, 100,000 of them on a large run.
        states = list(self._states.values())
        counts = {state.value: n for state in TaskStatus if (n := states.count(state))}
        data: dict[str, Any] = {"duration": duration, "counts": counts}
        span = self._span
        if self._stopping == "cancelled":
            self.status = RunStatus.CANCELLED
            self._emit("run.cancelled", data)
        elif self._errors:
            self.status = RunStatus.FAILED
            data["failed"] = list(self._errors)
            data["errors"] = {tid: f"{type(e).__name__}: {e}" for tid, e in self._errors.items()}
            self._emit("run.failed", data)
            span.set_status("error", f"{len(self._errors)} task(s) failed")
        else:
            self.status = RunStatus.COMPLETED
            self._emit("run.completed", data)
        try:
            span.set_attribute("status", self.status.value)
            span.end()
            self._timers.close()
            if self._own_executor:
                self._executor.shutdown(wait=False)
            self.workflow._run_finished(self)
        finally:
            self._done.set()

    def _emit(self, event_type: str, data: dict[str, Any], span_id: str | None = None) -> None:
        self._publish(correlated_event(event_type, data, (self.name, self.run_id, self._trace_id, span_id)))
