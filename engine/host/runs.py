"""Starting runs of loaded workflows, one way per kind (the Engine's helper).

`RunLauncher.launch` starts a run of a `Definition` without blocking and
returns a `RunRecord` whose ``future`` ends when the run does:

* ``dag``: ``DAGWorkflow.start()``; the future waits on the `DAGRun`.
* ``saga``: ``SagaOrchestrator.execute(run_id=...)`` on a run thread.
* ``state_machine``: a new instance of the definition (the run id is the
  instance id); its future is already done.
* ``event_driven`` / ``choreography``: the workflow's ``start_event`` is
  published with the inputs as data, on a run thread (a choreography's
  correlation key defaults to the run id).
* ``pool``: a `WorkerPool` on the runtime runs the `PoolJob`'s jobs.

Each run starts inside ``use_runtime(runtime)``, ``use_executor`` of the
engine's task executor and a copy of the caller's context, so what its
functions create reports to the engine's bus and runs where it should.
"""

from __future__ import annotations

import contextvars
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import FlowError
from ..events import Event
from ..executors.threads import Executor, use_executor
from .registry import Definition
from ..runtime import Runtime, use_runtime
from .workflow_file import reset_run_inputs, set_run_inputs


class RunNotStartableError(FlowError, ValueError):
    """A workflow cannot start a run the way it was asked to."""


@dataclass(slots=True)
class RunRecord:
    """One run started through the engine."""

    run_id: str
    definition: Definition
    future: Future
    handle: Any = None
    trigger: str = "manual"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The workflow's name."""
        return self.definition.name


def new_run_id() -> str:
    """A fresh run id."""
    return uuid.uuid4().hex[:16]


def _done(value: Any) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class RunLauncher:
    """Starts runs on ``executor`` threads under ``runtime``."""

    def __init__(
        self, runtime: Runtime, executor: ThreadPoolExecutor, task_executor: Executor | None = None
    ) -> None:
        self.runtime = runtime
        self.executor = executor
        self.task_executor = task_executor

    def _submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        context = contextvars.copy_context()

        def call() -> Any:
            with use_runtime(self.runtime):
                return fn(*args, **kwargs)

        return self.executor.submit(context.run, call)

    def launch(self, definition: Definition, inputs: dict[str, Any] | None, trigger: str) -> RunRecord:
        """Start a run of ``definition``; returns at once.

        The run's threads inherit this context, so `run_inputs()` returns
        ``inputs`` anywhere inside the run.
        """
        token = set_run_inputs(inputs)
        try:
            with use_runtime(self.runtime), use_executor(self.task_executor):
                return getattr(self, f"_{definition.kind}")(definition, dict(inputs or {}), trigger)
        finally:
            reset_run_inputs(token)

    def _dag(self, definition: Definition, inputs: dict[str, Any], trigger: str) -> RunRecord:
        dag_run = definition.obj.start()
        future = self._submit(dag_run.wait)
        return RunRecord(dag_run.run_id, definition, future, dag_run, trigger)

    def _saga(self, definition: Definition, inputs: dict[str, Any], trigger: str) -> RunRecord:
        run_id = new_run_id()
        future = self._submit(definition.obj.execute, run_id=run_id)
        return RunRecord(run_id, definition, future, None, trigger)

    def _state_machine(self, definition: Definition, inputs: dict[str, Any], trigger: str) -> RunRecord:
        machine = getattr(definition.obj, "definition", definition.obj)
        instance_id = str(inputs.get("instance_id") or f"{definition.name}-{new_run_id()[:8]}")
        context = inputs.get("context")
        instance = machine.create_instance(instance_id, dict(context) if context else None)
        return RunRecord(instance_id, definition, _done(instance.current_state), instance, trigger)

    def _emit_start(self, definition: Definition, inputs: dict[str, Any], trigger: str) -> RunRecord:
        event_type = inputs.pop("event_type", None) or definition.meta.start_event
        if not event_type:
            raise RunNotStartableError(
                f"workflow {definition.name!r} ({definition.kind}) has no start_event: "
                "declare @workflow(start_event=...) or pass inputs={'event_type': ...}"
            )
        run_id = new_run_id()
        key = getattr(definition.obj, "correlation_key", None) if definition.kind == "choreography" else None
        if key is not None:
            # A choreography's instances are told apart by this key: the run id serves.
            inputs.setdefault(key, run_id)
            run_id = str(inputs[key])
        event = Event(event_type, inputs, workflow=definition.name, run_id=run_id)
        future = self._submit(self.runtime.bus.publish, event)
        return RunRecord(run_id, definition, future, event, trigger)

    _event_driven = _emit_start
    _choreography = _emit_start

    def _pool(self, definition: Definition, inputs: dict[str, Any], trigger: str) -> RunRecord:
        run_id = new_run_id()
        future = self._submit(_run_pool_job, definition.obj, self.runtime)
        return RunRecord(run_id, definition, future, None, trigger)


def _run_pool_job(job: Any, runtime: Runtime) -> list[Any]:
    from ..pool.worker_pool import WorkerPool

    pool = WorkerPool(num_workers=job.num_workers, runtime=runtime, name=job.name)
    futures = []
    try:
        pool.start()
        for priority, func, args, kwargs in job.jobs:
            futures.append(pool.submit(func, priority, *args, **kwargs))
        pool.wait()
    finally:
        pool.shutdown(wait=True)
    return [f.result() for f in futures]
