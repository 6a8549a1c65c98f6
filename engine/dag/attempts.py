"""Attempts on this process's threads: running a task, and keeping the thread busy.

`LocalAttempts` is the part of `engine.dag.run.DAGRun` that runs on worker
threads: one attempt in its span, with its ``task.started`` event and its
timeout timer (`_attempt`); a worker's loop that runs what its own outcome
made ready, so a chain of tasks costs no hand-off between threads
(`_drive`); and the done-callback for executors that return futures
(`_on_done`). Outcomes go to the run through `DAGRun._outcome`, which takes
no lock on this path (see `DAGRun._settle`).
"""

from __future__ import annotations

from concurrent.futures import CancelledError, Future
from typing import Any, Callable

from .model import AttemptOutcome, ReadyAttempt, Task, TaskTimeoutError, _current_task
from ..events import correlated_event


class LocalAttempts:
    """Running attempts on threads (mixed into `DAGRun`, which owns the state)."""

    # Provided by DAGRun.
    _tracer: Any
    _publish: Callable[..., None]
    _timers: Any
    _span: Any
    _trace_id: str | None
    _base_context: Any
    _monotonic: Callable[[], float]
    _outcomes: Any
    _settle: Callable[..., Any]
    _outcome: Callable[..., Any]
    name: str
    run_id: str

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
                span.set_status("error", f"{type(exc).__name__}: {exc}")
                span.record_exception(exc)
                return AttemptOutcome(tid, attempt, False, exc, monotonic() - start, span_id)
            finally:
                if timer is not None:
                    timer.cancel()
            return AttemptOutcome(tid, attempt, True, result, monotonic() - start, span_id)

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
