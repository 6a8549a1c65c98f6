"""The error of a run that did not finish in the time a caller would wait.

``Engine.run(name, timeout=S)`` (and so ``flowconsole run --timeout S``)
gives up after S seconds. A bare ``TimeoutError`` says nothing; this one
names the run, the wait, the tasks still running or waiting, and, when the
executor knows why nothing moves (a Dask cluster with no workers), that too.
"""

from __future__ import annotations

from typing import Any

from ..errors import FlowError


class RunTimeoutError(FlowError, TimeoutError):
    """A run did not finish within the time the caller waited for it."""

    def __init__(self, workflow: str, run_id: str, timeout: float, waiting: list[str], stall: str | None) -> None:
        what = f"; still waiting for {', '.join(waiting)}" if waiting else ""
        why = f"; {stall}" if stall else ""
        super().__init__(f"workflow {workflow!r} run {run_id} did not finish within {timeout:g}s{what}{why}")
        self.workflow = workflow
        self.run_id = run_id
        self.timeout = timeout
        self.waiting = waiting
        self.stall = stall


def unfinished_tasks(handle: Any) -> list[str]:
    """``task 'x' (running)`` for each task of a DAG run handle not yet finished."""
    states = getattr(handle, "states", None)
    if not isinstance(states, dict):
        return []
    shown = []
    for task_id, state in states.items():
        value = getattr(state, "value", state)
        if value in ("running", "retrying"):
            shown.append(f"task {task_id!r} ({value})")
    if shown:
        return shown
    return [f"task {task_id!r} (pending)" for task_id, state in states.items() if getattr(state, "value", state) == "pending"]


def stall_reason(executor: Any) -> str | None:
    """Why the executor runs nothing, if it can tell (`DaskExecutor.stall_reason`)."""
    reason = getattr(executor, "stall_reason", None)
    if not callable(reason):
        return None
    try:
        return reason()
    except Exception:  # noqa: BLE001 - a question about the cluster must not hide the timeout
        return None
