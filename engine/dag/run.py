"""One run of a DAG: its scheduler, its attempts, its failures and its state.

The scheduler keeps an in-degree counter per task and a ready queue, so the
whole run costs O(V+E): a task is submitted the moment its last dependency
completes, up to ``max_parallel`` at once, and nothing is ever rescanned.

There is no coordinator thread. Whichever thread finishes an attempt (a
worker) or fires a timer records the outcome and submits what became ready;
a worker keeps one newly ready task for itself, so a chain runs without any
hand-off between threads (`DAGRun._drive`). Each attempt runs in a
fresh copy of the context the run was started in. On a remote executor
(Dask) only the task's function travels (a `TaskCall`, see
`engine.dag.remote`); the attempt's span, events, timing and timeout stay
here, and its ``duration`` includes the time it waited in the cluster's queue.

Thread safety: ``DAGRun._lock`` guards every field of a run's state (states,
results, errors, attempts, the ready queue, retry timers, ``_settling``);
task functions run outside it. A finished attempt is appended to
``_outcomes`` (a deque: appends need no lock) and recorded by whichever
thread holds the lock next: workers only ever try the lock, and every holder
settles the queue after releasing it (`DAGRun._settle` says why). Events
about a task are published under the lock, so a task's ``task.completed``
always precedes its dependents' ``task.started``. ``_done`` (a
`threading.Event`) tells waiters the run ended.

A failed attempt is retried on a timer (no worker waits), answered by the
task's fallback, or fails the task for good: it is dead-lettered once,
everything downstream is ``UPSTREAM_FAILED`` and, under ``fail_fast``, the
run stops; those decisions run holding ``_lock``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, Mapping

from ..clock import SystemClock
from ..events import Event, correlated_event
from ..executors.threads import Executor, ThreadExecutor, TimerHandle, Timers
from ..observe.tracing import set_run_id
from ..resilience.fallback import resolve_fallback
from .model import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    RETRYING,
    RUNNING,
    SKIPPED,
    UPSTREAM_FAILED,
    AttemptOutcome,
    AttemptsExhaustedError,
    ReadyAttempt,
    RunCancelledError,
    RunWaitTimeout,
    Task,
    TaskStatus,
    TaskTimeoutError,
    WorkflowError,
    _current_task,
    error_fields,
    preview,
)
from .remote import TaskCall
from ..error_text import error_line, error_message

if TYPE_CHECKING:
    from .workflow import DAGWorkflow

log = logging.getLogger("engine.dag")

# Per-task records are made with the tuple constructor itself: a named
# tuple's own __new__ is a Python call, twice the cost on this path.
_new = tuple.__new__


class RunStatus(Enum):
    """Where a whole run stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DAGRun:
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
        # Threads for the ``local`` tasks of a run on a remote executor, made when one is due.
        self._here: ThreadExecutor | None = None
        self._timers = Timers(self._clock, name=f"dag-timers-{run_id}")
        # Reentrant: a subscriber of an event published under the lock may
        # read the run's snapshots (or cancel it) on the same thread.
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._states: dict[str, TaskStatus] = dict.fromkeys(self._tasks, PENDING)
        self._remaining = {tid: len(t.depends_on) for tid, t in self._tasks.items()}
        self._results: dict[str, Any] = {}
        self._errors: dict[str, BaseException] = {}
        # When each task's first attempt failed (runtime clock), for its dead letter.
        self._first_failures: dict[str, float] = {}
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
                # This run, before it was interrupted, used the attempts up: a poison task.
                self._fail(tid, AttemptsExhaustedError(tid, attempt - 1, self.run_id), attempt - 1, None)
                continue
            attempts[tid] = attempt
            live[tid] = attempt
            states[tid] = RUNNING
            deps = task.depends_on
            out.append(_new(ReadyAttempt, (task, attempt, {dep: results[dep] for dep in deps} if deps else {})))
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
                here = [item for item in batch if item[0].local]
                if here:
                    batch = [item for item in batch if not item[0].local]
                    self._submit_to(self._local_executor(), here)
                if batch:
                    self._submit_remote(batch)
                return
            self._submit_to(self._executor, batch)
        elif self._finish_now:
            self._finish_now = False
            self._finish()

    def _local_executor(self) -> ThreadExecutor:
        with self._lock:
            if self._here is None:
                self._here = ThreadExecutor(self.max_parallel * 2, name=f"dag-{self.name}-local")
            return self._here

    def _submit_to(self, executor: Executor, batch: list[tuple[Task, int, dict[str, Any]]]) -> None:
        submit = executor.submit
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
            data["errors"] = {tid: error_line(e) for tid, e in self._errors.items()}
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
            if self._here is not None:
                self._here.shutdown(wait=False)
            self.workflow._run_finished(self)
        finally:
            self._done.set()

    def _emit(self, event_type: str, data: dict[str, Any], span_id: str | None = None) -> None:
        self._publish(correlated_event(event_type, data, (self.name, self.run_id, self._trace_id, span_id)))

    # -- recording outcomes without making workers wait on the run's lock -----

    def _outcome(
        self, tid: str, attempt: int, ok: bool, value: Any, duration: float, span_id: str | None,
        keep_one: bool = False,
    ) -> ReadyAttempt | None:
        """Queue an attempt's outcome, then settle the queue unless another thread is.

        With ``keep_one`` the first task claimed here is returned for the
        calling worker to run itself.
        """
        self._outcomes.append(_new(AttemptOutcome, (tid, attempt, ok, value, duration, span_id)))
        return self._settle(keep_one)

    def _settle(self, keep_one: bool = False) -> ReadyAttempt | None:
        """Record every queued outcome and start what became ready.

        Only a non-blocking acquire: a worker that finds the lock taken leaves
        its outcome to the holder, who checks the queue again after each
        release. Waiting on the lock instead hands its ownership to a thread
        that lacks the GIL, and four workers then pay a context switch per
        task (a lock convoy).
        """
        outcomes = self._outcomes
        lock = self._lock
        mine = None
        while outcomes:
            if not lock.acquire(blocking=False):
                return mine
            if self._settling:
                # This thread is settling already, further up its stack (a
                # subscriber of an event published under the lock got here).
                lock.release()
                return mine
            self._settling = True
            try:
                while outcomes:
                    self._record(*outcomes.popleft())
                submit = self._take_ready()
            finally:
                self._settling = False
                lock.release()
            if keep_one and mine is None and submit:
                mine = submit.pop(0)
            self._proceed(submit)
        return mine

    def _record(
        self, tid: str, attempt: int, ok: bool, value: Any, duration: float, span_id: str | None
    ) -> None:
        if self._live.get(tid) != attempt:
            return  # an attempt abandoned by its timeout finished after all
        del self._live[tid]
        if ok:
            self._complete(tid, attempt, value, duration, span_id)
        else:
            self._failed_attempt(tid, attempt, value, duration, span_id)

    # -- what a failed attempt means: retry, fallback, fail, skip, stop -------

    def _failed_attempt(
        self, tid: str, attempt: int, exc: BaseException, duration: float, span_id: str | None
    ) -> None:
        task = self._tasks[tid]
        if tid not in self._first_failures:
            self._first_failures[tid] = self._runtime.clock.time()
        policy = task.retry
        if policy is not None and not self._stopping and policy.should_retry(exc, attempt):
            delay = policy.delay(attempt)
            self._states[tid] = RETRYING
            self._emit("task.retrying", {
                "task": tid, "attempt": attempt, "delay": delay, "duration": duration,
                "error_type": type(exc).__name__, "error": error_message(exc),
            }, span_id)
            # The backoff is a timer, not a sleep: no worker waits for it.
            self._retry_timers[tid] = self._timers.call_later(delay, lambda: self._retry_due(tid))
            return
        if task.has_fallback:
            try:
                value = resolve_fallback(task.fallback, exc)
            except Exception as fallback_exc:  # noqa: BLE001 - a failing fallback fails the task
                fallback_exc.__cause__ = exc
                self._fail(tid, fallback_exc, attempt, span_id, duration)
                return
            self._emit("task.fallback", {
                "task": tid, "attempt": attempt, "error_type": type(exc).__name__,
                "error": error_message(exc), "result_preview": preview(value),
            }, span_id)
            self._complete(tid, attempt, value, duration, span_id, fallback=True)
            return
        self._fail(tid, exc, attempt, span_id, duration)

    def _fail(
        self, tid: str, exc: BaseException, attempt: int, span_id: str | None, duration: float = 0.0
    ) -> None:
        """``tid`` failed for good: record, dead-letter, and stop what depends on it."""
        self._states[tid] = FAILED
        self._errors[tid] = exc
        self._emit("task.failed", {"task": tid, "attempt": attempt, "duration": duration, **error_fields(exc)}, span_id)
        self._dead_letter(tid, exc, attempt, span_id)
        states = self._states
        stack = list(self._children[tid])
        while stack:
            child = stack.pop()
            if states[child] in (PENDING, RETRYING):
                self._skip(child, UPSTREAM_FAILED, "upstream_failed", upstream=tid)
                stack.extend(self._children[child])
        if self.failure_policy == "fail_fast":
            self._stop("fail_fast")

    def _dead_letter(self, tid: str, exc: BaseException, attempt: int, span_id: str | None) -> None:
        task = self._tasks[tid]
        inputs = {dep: self._results.get(dep) for dep in task.depends_on}
        self.workflow._remember_failure()
        try:
            self._runtime.dlq.add(
                source="task", unit=tid, error=exc, payload={"inputs": inputs},
                workflow=self.name,
                definition_version=self._runtime.definitions.generation(self.name) or None,
                attempts=attempt, run_id=self.run_id, trace_id=self._trace_id, span_id=span_id,
                first_failure=self._first_failures.get(tid),
            )
        except Exception:  # noqa: BLE001 - a broken queue must not stop the run
            log.exception("DAG %r run %s: could not dead-letter task %r", self.name, self.run_id, tid)

    def _skip(self, tid: str, state: TaskStatus, reason: str, **extra: Any) -> None:
        timer = self._retry_timers.pop(tid, None)
        if timer is not None:
            timer.cancel()
        self._states[tid] = state
        self._emit("task.skipped", {"task": tid, "reason": reason, **extra})

    def _stop(self, reason: str) -> None:
        """Start nothing new: every task not running is skipped with ``reason``."""
        if self._stopping or self._finishing:
            return
        self._stopping = reason
        state = CANCELLED if reason == "cancelled" else SKIPPED
        for tid, current in list(self._states.items()):
            if current is PENDING or current is RETRYING:
                self._skip(tid, state, reason)
        self._ready.clear()


    # -- attempts on this process's threads -----------------------------------

    def _attempt(self, task: Task, attempt: int, inputs: dict[str, Any]) -> AttemptOutcome:
        """Run one attempt on a worker thread (inside a copy of the submitter's context)."""
        tid = task.id
        run_id = self.run_id
        name = self.name
        _current_task.set((run_id, tid, attempt))
        monotonic = self._monotonic
        with self._tracer._child_span(
            f"task:{tid}", {"workflow": name, "run_id": run_id, "task": tid, "attempt": attempt}, self._span
        ) as span:
            span_id = span.span_id
            self._publish(correlated_event(
                "task.started", {"task": tid, "attempt": attempt}, (name, run_id, self._trace_id, span_id)
            ))
            timeout = task.attempt_timeout
            timer = None
            if timeout is not None:
                timer = self._timers.call_later(
                    timeout, lambda: self._timed_out(tid, attempt, timeout), advance=False
                )
            start = monotonic()
            try:
                result = task.func(**inputs)
            except Exception as exc:  # noqa: BLE001 - the run decides what a failure means
                span.set_status("error", error_line(exc))
                span.record_exception(exc)
                return _new(AttemptOutcome, (tid, attempt, False, exc, monotonic() - start, span_id))
            finally:
                if timer is not None:
                    timer.cancel()
            return _new(AttemptOutcome, (tid, attempt, True, result, monotonic() - start, span_id))

    def _drive(self, task: Task, attempt: int, inputs: dict[str, Any]) -> None:
        """Run an attempt, then keep this thread going with a task it made ready.

        Continuing on the same thread (instead of queueing the next task and
        waking another) means a chain of tasks costs no hand-off at all.
        """
        item: ReadyAttempt | None = ReadyAttempt(task, attempt, inputs)
        base = self._base_context
        attempt_fn = self._attempt
        append = self._outcomes.append
        settle = self._settle
        while item is not None:
            try:
                append(base.copy().run(attempt_fn, *item))
            except Exception as exc:  # noqa: BLE001 - failed outside the task function (the tracer...)
                append(AttemptOutcome(item.task.id, item.attempt, False, exc, 0.0, None))
            item = settle(True)

    def _on_done(self, future: Future, tid: str, attempt: int) -> None:
        try:
            _, _, ok, value, duration, span_id = future.result()
        except (CancelledError, Exception) as exc:
            # Cancelled by whoever owns the executor, or failed outside the
            # task function (the tracer, a BaseException turned Exception).
            ok, value, duration, span_id = False, exc, 0.0, None
        self._outcome(tid, attempt, ok, value, duration, span_id)

    def _timed_out(self, tid: str, attempt: int, timeout: float) -> None:
        self._outcome(tid, attempt, False, TaskTimeoutError(tid, timeout, attempt), timeout, None)


    # -- attempts on an executor whose workers are elsewhere ------------------

    def _submit_remote(self, batch: list[ReadyAttempt]) -> None:
        # In a copy of the run's context, so the spans carry the run id.
        self._base_context.copy().run(self._send_batched, batch)

    def _send_batched(self, batch: list[ReadyAttempt]) -> None:
        # An executor that can send many attempts in one message (Dask's
        # scheduler pays per message) gets the whole batch at once.
        batched = getattr(self._executor, "batched", None)
        if batched is None:
            self._send(batch)
            return
        with batched():
            self._send(batch)

    def _send(self, batch: list[ReadyAttempt]) -> None:
        submit = self._executor.submit
        name, run_id = self.name, self.run_id
        for task, attempt, inputs in batch:
            tid = task.id
            span = self._tracer.start_span(
                f"task:{tid}",
                {"workflow": name, "run_id": run_id, "task": tid, "attempt": attempt},
                parent=self._span,
            )
            self._publish(Event(
                "task.started", {"task": tid, "attempt": attempt},
                workflow=name, run_id=run_id, trace_id=span.trace_id, span_id=span.span_id,
            ))
            timeout = task.timeout if task.timeout is not None else (
                task.retry.timeout if task.retry is not None else None
            )
            sent: list[Future] = []
            timer = None
            if timeout is not None:
                timer = self._timers.call_later(
                    timeout, lambda t=tid, a=attempt, s=timeout, f=sent: self._remote_timed_out(t, a, s, f),
                    advance=False,
                )
            start = self._monotonic()
            try:
                future = submit(TaskCall(name, run_id, tid, attempt, task.func, inputs))
            except Exception as exc:  # noqa: BLE001 - a refused submission (not picklable...) fails the attempt
                self._remote_done(None, exc, tid, attempt, span, timer, start)
                continue
            sent.append(future)
            future.add_done_callback(
                lambda f, t=tid, a=attempt, s=span, tm=timer, st=start: self._remote_done(f, None, t, a, s, tm, st)
            )

    def _remote_timed_out(self, tid: str, attempt: int, timeout: float, sent: list[Future]) -> None:
        self._timed_out(tid, attempt, timeout)
        # The work cannot be stopped where it runs; cancelling drops its result.
        for future in sent:
            future.cancel()

    def _remote_done(
        self, future: Future | None, error: BaseException | None, tid: str, attempt: int,
        span: Any, timer: Any, start: float,
    ) -> None:
        if timer is not None:
            timer.cancel()
        duration = self._monotonic() - start
        value: Any = None
        if future is not None:
            if future.cancelled():
                error = CancelledError(f"attempt {attempt} of task {tid!r} was cancelled")
            else:
                error = future.exception()
                if error is None:
                    value = future.result()
        if error is not None:
            span.set_status("error", error_line(error))
            span.record_exception(error)
        span.end()
        if error is not None:
            self._outcome(tid, attempt, False, error, duration, span.span_id)
        else:
            self._outcome(tid, attempt, True, value, duration, span.span_id)
