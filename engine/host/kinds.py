"""What a builder returned: its kind, its checks, its spec, its teardown.

The loader hands every object a builder returns to `inspect_built`, which
recognises the kind (``dag``, ``state_machine``, ``event_driven``, ``saga``,
``choreography``, ``pool``), gives the object the workflow's name, applies
the metadata that belongs to the object (``max_parallel``,
``failure_policy`` and the default ``retry`` of a DAG's tasks), runs the kind's own validation and computes the
plain-data spec the console draws. `teardown` detaches whatever a workflow
subscribed to the bus, when a version is replaced or unloaded.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..errors import FlowError
from .workflow_file import Declaration, WorkflowMeta

class WorkflowKind(StrEnum):
    """What kind of workflow a builder returned; the spec and the events carry its text."""

    DAG = "dag"
    STATE_MACHINE = "state_machine"
    SAGA = "saga"
    CHOREOGRAPHY = "choreography"
    EVENT_DRIVEN = "event_driven"
    POOL = "pool"


# (kind, module, class). A class whose module was never imported cannot
# have instances, so `_kind_of` only looks at modules already loaded.
KINDS: tuple[tuple[WorkflowKind, str, str], ...] = (
    (WorkflowKind.DAG, "engine.dag.workflow", "DAGWorkflow"),
    (WorkflowKind.STATE_MACHINE, "engine.fsm.machine", "StateMachine"),
    (WorkflowKind.STATE_MACHINE, "engine.fsm.model", "MachineDefinition"),
    (WorkflowKind.SAGA, "engine.saga.orchestrator", "SagaOrchestrator"),
    (WorkflowKind.CHOREOGRAPHY, "engine.saga.choreography", "SagaChoreography"),
    (WorkflowKind.EVENT_DRIVEN, "engine.event_driven.workflow", "EventDrivenWorkflow"),
    (WorkflowKind.POOL, "engine.host.workflow_file", "PoolJob"),
)


# A DAGWorkflow given no name calls itself "dag-<n>": that is no name at all.
_AUTO_NAME = re.compile(r"^dag-\d+$")


class WorkflowBuildError(FlowError, ValueError):
    """A builder returned something that is not a valid workflow."""

    def __init__(self, message: str, *, workflow: str, field: str | None = None, line: int = 0) -> None:
        at = f" field {field!r}" if field else ""
        super().__init__(f"workflow {workflow!r}{at}: {message}")
        self.workflow = workflow
        self.field = field
        self.line = line


@dataclass(frozen=True, slots=True)
class BuiltWorkflow:
    """A workflow built from a declaration and validated."""

    meta: WorkflowMeta
    kind: WorkflowKind
    obj: Any
    spec: dict[str, Any]
    file: str
    line: int

    @property
    def name(self) -> str:
        """The workflow's name."""
        return self.meta.name


def _kind_of(obj: Any) -> WorkflowKind | None:
    for kind, module_name, class_name in KINDS:
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None) if module is not None else None
        if cls is not None and isinstance(obj, cls):
            return kind
    return None


def _line_of(func: Any, file: str) -> int:
    code = getattr(func, "__code__", None)
    return code.co_firstlineno if code is not None and code.co_filename == file else 0


def _name(decl: Declaration, obj: Any) -> None:
    own = getattr(obj, "name", None)
    if own is None or _AUTO_NAME.match(str(own)):
        obj.name = decl.meta.name
    elif own != decl.meta.name:
        raise WorkflowBuildError(
            f"the builder returned a workflow named {own!r}; name it {decl.meta.name!r} "
            "or leave its name out",
            workflow=decl.meta.name, field="name", line=decl.line,
        )


def _dag(decl: Declaration, obj: Any) -> dict[str, Any]:
    meta = decl.meta
    if meta.max_parallel is not None:
        obj.max_parallel = meta.max_parallel
    if meta.failure_policy is not None:
        obj.failure_policy = meta.failure_policy
    if meta.retry is not None:
        policy = meta.retry.policy()
        for task in obj.tasks.values():
            if task.retry is None:
                task.retry = policy
    if not obj.tasks:
        raise WorkflowBuildError("the DAG has no tasks", workflow=meta.name, field="tasks", line=decl.line)
    try:
        obj.validate()
    except FlowError as exc:
        task = getattr(exc, "task_id", None) or next(iter(getattr(exc, "cycle", None) or ()), None)
        line = _line_of(obj.tasks[task].func, decl.file) if task in obj.tasks else 0
        raise WorkflowBuildError(
            f"{type(exc).__name__}: {exc}", workflow=meta.name,
            field=f"tasks.{task}" if task else "tasks", line=line or decl.line,
        ) from exc
    return {"tasks": {tid: list(task.depends_on) for tid, task in obj.tasks.items()}}


def _state_machine(decl: Declaration, obj: Any) -> dict[str, Any]:
    obj.validate()
    return obj.describe()


def _saga(decl: Declaration, obj: Any) -> dict[str, Any]:
    if not obj.steps:
        raise WorkflowBuildError("the saga has no steps", workflow=decl.meta.name, field="steps", line=decl.line)
    for step in obj.steps:
        if not callable(getattr(step, "compensate", None)):
            raise WorkflowBuildError(
                f"saga step {step.name!r} has no compensation: every step needs one to undo it",
                workflow=decl.meta.name, field=f"steps.{step.name}",
                line=_line_of(step.forward, decl.file) or decl.line,
            )
    return obj.describe()


def _choreography(decl: Declaration, obj: Any) -> dict[str, Any]:
    return obj.describe()


def _event_driven(decl: Declaration, obj: Any) -> dict[str, Any]:
    if not obj.subscriptions:
        raise WorkflowBuildError(
            "the event-driven workflow has no handlers (use @workflow_obj.on_event(...))",
            workflow=decl.meta.name, field="handlers", line=decl.line,
        )
    return {
        "handlers": [
            {"event": pattern, "handler": getattr(h, "__name__", repr(h))}
            for pattern, h in obj.subscriptions
        ],
        "start_event": decl.meta.start_event,
    }


def _pool(decl: Declaration, obj: Any) -> dict[str, Any]:
    if not obj.jobs:
        raise WorkflowBuildError("the pool job has no jobs", workflow=decl.meta.name, field="jobs", line=decl.line)
    if obj.num_workers < 1:
        raise WorkflowBuildError(
            f"num_workers must be at least 1, got {obj.num_workers}",
            workflow=decl.meta.name, field="num_workers", line=decl.line,
        )
    return obj.describe()


_INSPECT = {
    "dag": _dag,
    "state_machine": _state_machine,
    "saga": _saga,
    "choreography": _choreography,
    "event_driven": _event_driven,
    "pool": _pool,
}


MAX_ID_LENGTH = 200
# The ids a spec names: tasks (dict keys), states and steps (lists).
_ID_FIELDS = (("tasks", "task id"), ("states", "state"), ("steps", "step"))


def _check_ids(decl: Declaration, spec: dict[str, Any]) -> None:
    """Task ids, states and steps are identifiers shown in the console, logs and the store."""
    for field, what in _ID_FIELDS:
        for ident in spec.get(field) or ():
            text = ident if isinstance(ident, str) else str(ident)
            if text and len(text) <= MAX_ID_LENGTH and text.isprintable():
                continue
            raise WorkflowBuildError(
                f"{what} {text[:MAX_ID_LENGTH]!r} is not an identifier: use 1 to {MAX_ID_LENGTH} "
                "printable characters, no control characters or line breaks",
                workflow=decl.meta.name, field=f"{field}.{text[:40]}", line=decl.line,
            )


def inspect_built(decl: Declaration, obj: Any) -> BuiltWorkflow:
    """Recognise, name, configure and validate what a builder returned."""
    kind = _kind_of(obj)
    if kind is None:
        raise WorkflowBuildError(
            f"the builder {decl.builder.__name__}() returned {type(obj).__name__}, not a workflow "
            "(return a DAGWorkflow, StateMachine, EventDrivenWorkflow, SagaOrchestrator, "
            "SagaChoreography or PoolJob)",
            workflow=decl.meta.name, line=decl.line,
        )
    if kind in ("event_driven", "choreography") and decl.meta.event_pattern:
        raise WorkflowBuildError(
            f"{'an event-driven workflow' if kind == 'event_driven' else 'a choreography'} reacts to "
            "its events by itself; an 'on' trigger is for the "
            "other kinds (use trigger='manual' and start_event=...)",
            workflow=decl.meta.name, field="trigger", line=decl.line,
        )
    _name(decl, obj)
    try:
        spec = _INSPECT[kind](decl, obj)
        _check_ids(decl, spec)
    except Exception:
        teardown_obj(kind, obj)
        raise
    return BuiltWorkflow(decl.meta, kind, obj, spec, decl.file, decl.line)


def teardown_obj(kind: str, obj: Any) -> None:
    """Detach whatever ``obj`` subscribed to a bus."""
    if kind in ("event_driven", "choreography"):
        detach = getattr(obj, "detach", None)
        if callable(detach):
            detach()


def teardown(built: BuiltWorkflow) -> None:
    """Detach the subscriptions of a built workflow."""
    teardown_obj(built.kind, built.obj)
