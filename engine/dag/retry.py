"""Retrying a dead-lettered DAG task: run it once more from its stored inputs.

The ``"task"`` retrier of a runtime's dead-letter queue (registered when the
runtime's first `DAGWorkflow` is made) looks up the current definition of the
letter's workflow in ``runtime.definitions``, falling back on the definition
that failed in that same runtime (held in memory), and runs the task with ``payload["inputs"]``
as a run of its own, under a new run id: ``run.started`` (whose ``tasks``
is the retried task alone, and ``retry_of`` the original run and the
letter), the task's ``task.*`` events, then ``run.completed`` or
``run.failed``, in a run span with the task's span inside. A view of the
run sees it start and end like any other run; recovery never resumes one
(the letter is what is retried again).

``_registered_lock`` guards the set of runtimes whose queue has the retrier
and the failed definitions of each runtime.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Callable

from .model import (
    DAGValidationError,
    Task,
    UnknownTaskError,
    _current_task,
    error_fields,
    preview,
)
from ..events import Event
from ..observe.tracing import set_run_id

if TYPE_CHECKING:
    from .workflow import DAGWorkflow
    from ..runtime import Runtime

_registered: weakref.WeakSet[Runtime] = weakref.WeakSet()
_registered_lock = threading.Lock()
# The last definition that dead-lettered a task, by runtime and workflow name:
# a letter's retry falls back on it when the name is not in runtime.definitions.
# Kept per runtime, so one engine's letter never runs another engine's tasks.
_failed: weakref.WeakKeyDictionary[Runtime, dict[str, DAGWorkflow]] = weakref.WeakKeyDictionary()


def remember_failed(workflow: DAGWorkflow) -> None:
    """Keep ``workflow`` as the definition its runtime's task letters fall back on."""
    with _registered_lock:
        _failed.setdefault(workflow.runtime, {})[workflow.name] = workflow


def failed_definition(runtime: Runtime, name: str | None) -> DAGWorkflow | None:
    """The definition named ``name`` that last dead-lettered a task in ``runtime``."""
    with _registered_lock:
        return _failed.get(runtime, {}).get(name) if name is not None else None


def register_retrier(runtime: Runtime, kind: type[DAGWorkflow]) -> None:
    """Make ``runtime``'s dead-letter queue retry task letters of ``kind`` workflows (once per runtime)."""
    with _registered_lock:
        if runtime in _registered:
            return
        _registered.add(runtime)
    runtime.dlq.register_retrier("task", lambda letter: retry_task_letter(runtime, letter, kind))


def retry_task_letter(runtime: Runtime, letter: Any, kind: type[DAGWorkflow]) -> Any:
    """Run a dead-lettered task again from ``letter.payload["inputs"]``.

    Uses the current definition of ``letter.workflow`` (falling back on the
    definition that failed), under a new run id; raises if the task fails.
    """
    workflow = runtime.definitions.get(letter.workflow) or failed_definition(runtime, letter.workflow)
    if not isinstance(workflow, kind):
        raise DAGValidationError(
            f"dead letter {letter.id}: no DAG definition named {letter.workflow!r} is loaded",
            workflow=letter.workflow, task_id=letter.unit,
        )
    task = workflow.tasks.get(letter.unit)
    if task is None:
        raise UnknownTaskError(letter.unit, workflow.name)
    inputs = dict((letter.payload or {}).get("inputs") or {})
    run_id = uuid.uuid4().hex[:16]
    retry_of = {"run_id": letter.run_id, "dead_letter": letter.id}
    return contextvars.copy_context().run(
        run_task_once, workflow.name, task, inputs, runtime, run_id, retry_of
    )


def run_task_once(
    workflow_name: str,
    task: Task,
    inputs: dict[str, Any],
    runtime: Any,
    run_id: str,
    retry_of: dict[str, Any],
) -> Any:
    """Run ``task`` once from stored inputs (a dead letter's retry) as a run of its own.

    Publishes the run's start and end around the task's events; see the module.
    """
    publish: Callable[[Event], None] = runtime.bus.publish
    clock = runtime.clock
    set_run_id(run_id)
    with runtime.tracer.start_span(
        f"run:{workflow_name}", {"workflow": workflow_name, "run_id": run_id}, parent=None
    ) as run_span:
        def emit_run(kind: str, data: dict[str, Any]) -> None:
            publish(Event(kind, data, workflow=workflow_name, run_id=run_id, trace_id=run_span.trace_id))

        emit_run("run.started", {
            "tasks": {task.id: []}, "max_parallel": 1, "failure_policy": "fail_fast",
            "retry_of": retry_of,
        })
        started = clock.monotonic()
        try:
            result = _attempt(workflow_name, task, inputs, runtime, run_id)
        except Exception as exc:
            run_span.set_status("error", "1 task(s) failed")
            emit_run("run.failed", {
                "duration": clock.monotonic() - started, "counts": {"failed": 1},
                "failed": [task.id], "errors": {task.id: f"{type(exc).__name__}: {exc}"},
            })
            raise
        emit_run("run.completed", {"duration": clock.monotonic() - started, "counts": {"completed": 1}})
        return result


def _attempt(workflow_name: str, task: Task, inputs: dict[str, Any], runtime: Any, run_id: str) -> Any:
    publish: Callable[[Event], None] = runtime.bus.publish
    tid = task.id
    _current_task.set((run_id, tid, 1))
    with runtime.tracer.start_span(
        f"task:{tid}", {"workflow": workflow_name, "run_id": run_id, "task": tid, "attempt": 1}
    ) as span:
        def emit(kind: str, data: dict[str, Any]) -> None:
            publish(Event(kind, {"task": tid, "attempt": 1, **data}, workflow=workflow_name,
                          run_id=run_id, trace_id=span.trace_id, span_id=span.span_id))

        emit("task.started", {"retry_of_dead_letter": True})
        start = runtime.clock.monotonic()
        try:
            result = task.func(**inputs)
        except Exception as exc:
            emit("task.failed", {"duration": runtime.clock.monotonic() - start, **error_fields(exc)})
            raise
        emit("task.completed", {
            "duration": runtime.clock.monotonic() - start, "result": result, "result_preview": preview(result),
        })
        return result
