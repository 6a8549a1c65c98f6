"""The sidebar's state: every workflow the engine loaded, and how it is doing.

Fed by ``workflow.loaded/reloaded/load_failed/unloaded`` and the run events
of every kind: a DAG's ``run.*``, a saga's ``saga.started`` and run-ending
``saga.*`` events, a state machine's ``fsm.*`` (its instances and the
outcome of its last action).
A file that fails to load shows as a load error (message, traceback,
file:line) until it loads again; if an earlier version is still active the
workflow keeps its kind and runs. Reload outcomes become *notices* the app
shows as notifications (`take_notices`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Sequence

from engine import Clock, Event

RUN_END = {"run.completed": "completed", "run.failed": "failed", "run.cancelled": "cancelled"}
RUN_START = {"run.started", "saga.started"}
SAGA_END = {
    "saga.completed": "completed",
    "saga.compensated": "compensated",
    "saga.compensation_failed": "compensation failed",
    "saga.marked_compensated": "compensated",
}
# A state machine's events and the outcome each leaves as its last: a guard
# refusing an event is the machine working, only a failed action is a failure.
FSM_OUTCOME = {
    "fsm.instance_created": "completed",
    "fsm.instance_restored": "completed",
    "fsm.transitioned": "completed",
    "fsm.reset": "completed",
    "fsm.blocked": "completed",
    "fsm.rejected": "completed",
    "fsm.action_failed": "failed",
}


@dataclass
class LoadError:
    """Why a workflow file did not load."""

    file: str
    line: int | None
    message: str
    traceback: str
    last_good_active: bool


@dataclass
class WorkflowInfo:
    """One workflow as the sidebar shows it."""

    name: str
    kind: str = "?"
    file: str = ""
    line: int | None = None
    generation: int = 0
    description: str = ""
    tags: list[str] = field(default_factory=list)
    active_runs: set[str] = field(default_factory=set)
    last_run_status: str | None = None
    last_run_ts: float | None = None
    load_error: LoadError | None = None
    loaded: bool = False
    instances: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        """``load error``, ``running``, the last run's outcome, or ``idle``.

        A state machine with instances says how many (`last_run_status` then
        holds how its last action went: ``completed`` or ``failed``).
        """
        if self.load_error is not None:
            return "load error"
        if self.active_runs:
            return "running"
        if self.instances:
            return f"{len(self.instances)} instance" + ("" if len(self.instances) == 1 else "s")
        return self.last_run_status or "idle"


@dataclass(frozen=True)
class Notice:
    """A notification to show once: a reload or a load failure."""

    title: str
    message: str
    severity: str


class WorkflowsState:
    """Workflows by name, in the order they were first seen."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.workflows: dict[str, WorkflowInfo] = {}
        self._notices: list[Notice] = []

    def _info(self, name: str) -> WorkflowInfo:
        info = self.workflows.get(name)
        if info is None:
            info = self.workflows[name] = WorkflowInfo(name)
        return info

    def apply(self, events: Sequence[Event]) -> bool:
        changed = False
        for event in events:
            kind = event.type
            if kind.startswith("workflow."):
                changed |= self._on_workflow(event)
            elif not event.workflow:
                continue
            elif kind in RUN_START:
                info = self._info(event.workflow)
                info.active_runs.add(event.run_id or "")
                info.last_run_ts = event.ts
                changed = True
            elif kind in RUN_END or kind in SAGA_END:
                info = self._info(event.workflow)
                info.active_runs.discard(event.run_id or "")
                info.last_run_status = RUN_END.get(kind) or SAGA_END[kind]
                info.last_run_ts = event.ts
                changed = True
            elif kind in FSM_OUTCOME:
                changed |= self._on_fsm(event)
        return changed

    def _on_fsm(self, event: Event) -> bool:
        instance = event.data.get("instance")
        if instance is None:
            return False
        info = self._info(str(event.workflow))
        info.instances.add(str(instance))
        info.last_run_status = FSM_OUTCOME[event.type]
        info.last_run_ts = event.ts
        return True

    def _on_workflow(self, event: Event) -> bool:
        data = event.data
        name = str(data.get("name") or event.workflow or "")
        if not name and event.type != "workflow.load_failed":
            return False
        if event.type in ("workflow.loaded", "workflow.reloaded"):
            info = self._info(name)
            info.kind = str(data.get("kind") or "?")
            info.file = str(data.get("file") or "")
            info.line = _int_or_none(data.get("line"))
            info.generation = _int_or_none(data.get("generation")) or 0
            info.description = str(data.get("description") or "")
            info.tags = [str(t) for t in data.get("tags") or ()]
            info.load_error = None
            info.loaded = True
            self._forget_file_errors(info.file, name)
            if event.type == "workflow.reloaded":
                self._notices.append(
                    Notice(f"Reloaded {name}", _describe_changes(data.get("changes")), "information")
                )
            return True
        if event.type == "workflow.unloaded":
            self.workflows.pop(name, None)
            self._notices.append(Notice(f"Unloaded {name}", str(data.get("file") or ""), "warning"))
            return True
        if event.type == "workflow.load_failed":
            return self._on_load_failed(event)
        return False

    def _on_load_failed(self, event: Event) -> bool:
        data = event.data
        file = str(data.get("file") or "")
        line = _int_or_none(data.get("line"))
        active = [str(n) for n in data.get("active") or ()]
        error = LoadError(
            file=file,
            line=line,
            message=str(data.get("message") or ""),
            traceback=str(data.get("traceback") or ""),
            last_good_active=bool(data.get("last_good_active")) or bool(active),
        )
        # Workflows still served from the file's last good version carry the
        # error; a file with none shows as an entry of its own.
        names = active or [
            str(data.get("name") or data.get("workflow") or event.workflow or PurePath(file).name or "?")
        ]
        for name in names:
            info = self._info(name)
            info.file = info.file or file
            info.load_error = error
        where = f"{file}:{line}" if line else file
        tail = "last good version still active" if error.last_good_active else "no version active"
        self._notices.append(Notice(f"Load failed: {where}", f"{error.message}\n{tail}", "error"))
        return True

    def _forget_file_errors(self, file: str, keep: str) -> None:
        # A file that loads now no longer needs the entry its failure made.
        stale = [
            name
            for name, info in self.workflows.items()
            if name != keep and not info.loaded and info.load_error is not None and info.load_error.file == file
        ]
        for name in stale:
            del self.workflows[name]

    def take_notices(self) -> list[Notice]:
        """The notices gathered since the last call."""
        notices, self._notices = self._notices, []
        return notices

    def last_run_ago(self, info: WorkflowInfo) -> float | None:
        """Seconds since the workflow's last run started or ended."""
        if info.last_run_ts is None:
            return None
        return self.clock.time() - info.last_run_ts

    @property
    def loaded_count(self) -> int:
        """Workflows with an active version."""
        return sum(
            1
            for w in self.workflows.values()
            if w.loaded and (w.load_error is None or w.load_error.last_good_active)
        )

    @property
    def active_runs(self) -> int:
        """Runs started and not yet finished, over every workflow."""
        return sum(len(w.active_runs) for w in self.workflows.values())


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _describe_changes(changes: Any) -> str:
    if not changes:
        return "definition reloaded"
    if isinstance(changes, dict):
        parts = []
        for key, value in changes.items():
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(v) for v in value) or "-"
            parts.append(f"{key}: {value}")
        return "; ".join(parts)
    if isinstance(changes, (list, tuple)):
        return "; ".join(str(c) for c in changes)
    return str(changes)
