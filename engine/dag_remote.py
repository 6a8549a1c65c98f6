"""The remote path of a DAG run: attempts on an executor whose workers are elsewhere.

A remote executor (``executor.remote`` is true, e.g. `DaskExecutor`) runs
work in places that cannot publish to this process's bus, use its tracer or
read its clock. So only a `TaskCall` (the task's function, its inputs and its
identity) is sent; the attempt's span, its ``task.started`` event, its
timing and its timeout timer live here, and the attempt's outcome comes back
through a done-callback on the executor's future, where `DAGRun._outcome`
decides on retries, fallbacks and dead-lettering exactly as for threads.

``duration`` on this path is measured here, from submission to outcome, so
it includes the time the work waited in the cluster's queue.
"""

from __future__ import annotations

from concurrent.futures import CancelledError, Future
from typing import Any, Callable

from .dag_model import Task, _current_task
from .events import Event


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


class RemoteAttempts:
    """Sending attempts to a remote executor (mixed into `DAGRun`, which owns the state)."""

    # Provided by DAGRun.
    _executor: Any
    _tracer: Any
    _publish: Callable[[Event], None]
    _timers: Any
    _span: Any
    _base_context: Any
    _monotonic: Callable[[], float]
    _outcome: Callable[..., Any]
    _timed_out: Callable[[str, int, float], None]
    name: str
    run_id: str

    def _submit_remote(self, batch: list[tuple[Task, int, dict[str, Any]]]) -> None:
        # In a copy of the run's context, so the spans carry the run id.
        self._base_context.copy().run(self._send_batched, batch)

    def _send_batched(self, batch: list[tuple[Task, int, dict[str, Any]]]) -> None:
        # An executor that can send many attempts in one message (Dask's
        # scheduler pays per message) gets the whole batch at once.
        batched = getattr(self._executor, "batched", None)
        if batched is None:
            self._send(batch)
            return
        with batched():
            self._send(batch)

    def _send(self, batch: list[tuple[Task, int, dict[str, Any]]]) -> None:
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
            span.set_status("error", f"{type(error).__name__}: {error}")
            span.record_exception(error)
        span.end()
        if error is not None:
            self._outcome(tid, attempt, False, error, duration, span.span_id)
        else:
            self._outcome(tid, attempt, True, value, duration, span.span_id)
