"""What a failed task attempt means for a DAG run: retry, fallback, fail, skip, stop.

`FailureHandling` is the part of `engine.dag.run.DAGRun` that decides, for an
attempt that raised or timed out: schedule a retry on a timer (no worker
waits), use the task's fallback, or fail the task for good: dead-letter it
once, mark everything downstream ``UPSTREAM_FAILED`` and, under
``fail_fast``, stop the run. Every method here runs holding the run's
``_lock``.
"""

from __future__ import annotations

import logging
from typing import Any

from ..resilience.fallback import resolve_fallback
from .model import (
    CANCELLED,
    FAILED,
    PENDING,
    RETRYING,
    SKIPPED,
    UPSTREAM_FAILED,
    TaskStatus,
    error_fields,
    preview,
)

log = logging.getLogger("engine.dag")


class FailureHandling:
    """Failure decisions of a DAG run (mixed into `DAGRun`, which owns the state)."""

    # Provided by DAGRun.
    _tasks: dict[str, Any]
    _states: dict[str, TaskStatus]
    _results: dict[str, Any]
    _errors: dict[str, BaseException]
    _children: dict[str, tuple[str, ...]]
    _retry_timers: dict[str, Any]
    _ready: Any
    _timers: Any
    _runtime: Any
    _stopping: str | None
    _finishing: bool
    _trace_id: str | None
    workflow: Any
    name: str
    run_id: str
    failure_policy: str

    def _failed_attempt(
        self, tid: str, attempt: int, exc: BaseException, duration: float, span_id: str | None
    ) -> None:
        task = self._tasks[tid]
        policy = task.retry
        if policy is not None and not self._stopping and policy.should_retry(exc, attempt):
            delay = policy.delay(attempt)
            self._states[tid] = RETRYING
            self._emit("task.retrying", {
                "task": tid, "attempt": attempt, "delay": delay, "duration": duration,
                "error_type": type(exc).__name__, "error": str(exc),
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
                "error": str(exc), "result_preview": preview(value),
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
