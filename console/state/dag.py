"""The DAG view's state: each DAG workflow's graph and its runs' task states.

The graph of a workflow comes from its ``workflow.loaded`` spec; a run's own
graph from its ``run.started`` event (so any run can be drawn, even of a
workflow the console never saw load). Task events update the latest state
per task. Only the last `MAX_RUNS` runs per workflow are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from engine import Clock, Event

MAX_RUNS = 25

TASK_STATUS = {
    "task.started": "running",
    "task.retrying": "retrying",
    "task.completed": "completed",
    "task.failed": "failed",
    "task.skipped": "skipped",
    "task.fallback": "completed",
    "task.restored": "completed",
}
RUN_STATUS = {"run.completed": "completed", "run.failed": "failed", "run.cancelled": "cancelled"}


@dataclass
class TaskView:
    """The latest known state of one task in one run."""

    status: str = "pending"
    attempts: int = 0
    duration: float | None = None
    result_preview: str | None = None
    error_type: str | None = None
    error: str | None = None
    traceback: str | None = None
    note: str | None = None


@dataclass
class RunView:
    """One run of a DAG workflow."""

    run_id: str
    workflow: str
    tasks: dict[str, list[str]]
    started_ts: float | None = None
    ended_ts: float | None = None
    status: str = "running"
    states: dict[str, TaskView] = field(default_factory=dict)
    version: int = 0

    def task(self, task_id: str) -> TaskView:
        """The state of ``task_id`` (pending if nothing was heard of it)."""
        view = self.states.get(task_id)
        if view is None:
            view = self.states[task_id] = TaskView()
        return view


def _tasks(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, Mapping):
        return None
    return {str(task): [str(d) for d in (deps or ())] for task, deps in value.items()}


class DagState:
    """Graphs by workflow and the recent runs of each."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.specs: dict[str, dict[str, list[str]]] = {}
        self.runs: dict[str, dict[str, RunView]] = {}
        self.version = 0
        # Task events come in long runs of one run; remember the last one looked up.
        self._last_run: RunView | None = None

    def apply(self, events: Sequence[Event]) -> bool:
        changed = False
        for event in events:
            kind = event.type
            if kind in TASK_STATUS:
                changed |= self._on_task(event, TASK_STATUS[kind])
            elif kind == "run.started":
                changed |= self._on_run_started(event)
            elif kind in RUN_STATUS:
                run = self._run(event)
                if run is not None:
                    run.status = RUN_STATUS[kind]
                    run.ended_ts = event.ts
                    run.version += 1
                    changed = True
            elif kind in ("workflow.loaded", "workflow.reloaded"):
                changed |= self._on_loaded(event)
            elif kind == "workflow.unloaded":
                name = str(event.data.get("name") or event.workflow or "")
                changed |= self.specs.pop(name, None) is not None
        if changed:
            self.version += 1
        return changed

    def _on_loaded(self, event: Event) -> bool:
        data = event.data
        if data.get("kind") != "dag":
            return False
        spec = data.get("spec")
        tasks = _tasks(spec.get("tasks")) if isinstance(spec, Mapping) else None
        if tasks is None:
            return False
        self.specs[str(data.get("name") or event.workflow)] = tasks
        return True

    def _on_run_started(self, event: Event) -> bool:
        workflow = event.workflow or str(event.data.get("workflow") or "")
        if not event.run_id or not workflow:
            return False
        tasks = _tasks(event.data.get("tasks")) or dict(self.specs.get(workflow, {}))
        runs = self.runs.setdefault(workflow, {})
        run = runs.get(event.run_id)
        if run is None:
            run = runs[event.run_id] = RunView(event.run_id, workflow, tasks)
        elif tasks:
            run.tasks = tasks
        run.started_ts = event.ts
        run.status = "running"
        run.version += 1
        while len(runs) > MAX_RUNS:
            del runs[next(iter(runs))]
            self._last_run = None
        return True

    def _run(self, event: Event) -> RunView | None:
        workflow = event.workflow
        if not event.run_id or not workflow:
            return None
        last = self._last_run
        if last is not None and last.run_id == event.run_id and last.workflow == workflow:
            return last
        runs = self.runs.setdefault(workflow, {})
        run = runs.get(event.run_id)
        if run is not None:
            self._last_run = run
        else:
            # The run started before the console could hear it (or its start was dropped).
            run = runs[event.run_id] = RunView(
                event.run_id, workflow, dict(self.specs.get(workflow, {})), started_ts=event.ts
            )
            while len(runs) > MAX_RUNS:
                del runs[next(iter(runs))]
            self._last_run = None
            self._last_run = run
        return run

    def _on_task(self, event: Event, status: str) -> bool:
        data = event.data
        task_id = data.get("task")
        if task_id is None:
            return False
        run = self._run(event)
        if run is None:
            return False
        task_id = str(task_id)
        view = run.states.get(task_id)
        if view is None:
            if task_id not in run.tasks:
                run.tasks[task_id] = []
            view = run.states[task_id] = TaskView()
        view.status = status
        attempt = data.get("attempt")
        if attempt.__class__ is int:
            if attempt > view.attempts:
                view.attempts = attempt
        elif status == "running":
            view.attempts += 1
        took = data.get("duration")
        if took is not None and took.__class__ in (int, float):
            view.duration = float(took)
        if "result_preview" in data:
            preview = data["result_preview"]
            view.result_preview = None if preview is None else str(preview)
        if status == "failed" or status == "retrying":
            view.error_type = _str_or_none(data.get("error_type"))
            view.error = _str_or_none(data.get("error"))
            view.traceback = _str_or_none(data.get("traceback"))
        elif view.error is not None and event.type == "task.completed":
            view.error_type = view.error = view.traceback = None
        if event.type == "task.fallback" or event.type == "task.restored":
            view.note = event.type[5:]
        run.version += 1
        return True

    # -- queries for the view ---------------------------------------------

    def runs_of(self, workflow: str) -> list[RunView]:
        """The kept runs of ``workflow``, oldest first."""
        return list(self.runs.get(workflow, {}).values())

    def latest_run(self, workflow: str) -> RunView | None:
        runs = self.runs.get(workflow)
        if not runs:
            return None
        return runs[next(reversed(runs))]

    def graph(self, workflow: str, run: RunView | None = None) -> dict[str, list[str]]:
        """The graph to draw: the run's own, else the workflow's spec."""
        if run is not None and run.tasks:
            return run.tasks
        return self.specs.get(workflow, {})

    def is_dag(self, workflow: str) -> bool:
        return workflow in self.specs or workflow in self.runs


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
