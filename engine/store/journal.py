"""The run journal, kept from bus events inside the writer's transaction.

* ``runs``: one row per DAG run or saga run (``kind`` ``"dag"`` / ``"saga"``)
  with its status (``running`` until a terminal event) and its spec.
* ``tasks``: each DAG task's status, attempts started, timing of its last
  attempt, its last error and its result (each attempt's own events are in
  the event log). A result is stored only when it is JSON-serializable; otherwise
  ``has_result`` stays 0 and the task runs again when its run is resumed.
* ``saga_steps``: which steps of a saga completed (with their results, when
  JSON) and which compensations ran; the run's ``direction`` turns
  ``backward`` once a step fails or a compensation starts.
* ``fsm_instances``: each state-machine instance's state, context and history.

Every function here runs on the writer thread, inside its transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..events import Event
from . import batch
from .json_codec import compact_encoder

log = logging.getLogger("engine.store")

_strict = compact_encoder(allow_nan=False)
_loose = compact_encoder(str)


def _json_or_none(value: Any) -> str | None:
    """``value`` as JSON, or None when JSON cannot hold it exactly."""
    if value is None:
        return "null"  # the result of most tasks
    try:
        return _strict(value)
    except (TypeError, ValueError, RecursionError):
        return None


# -- writing -------------------------------------------------------------


def _run_started(conn: sqlite3.Connection, event: Event, kind: str) -> None:
    data = dict(event.data)
    conn.execute(
        "INSERT INTO runs (run_id, workflow, kind, status, started, data) VALUES (?, ?, ?, 'running', ?, ?) "
        "ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished = NULL, "
        "workflow = coalesce(excluded.workflow, workflow), data = excluded.data",
        (event.run_id, event.workflow, kind, event.ts, _loose(data)),
    )


def _run_finished(conn: sqlite3.Connection, event: Event, status: str) -> None:
    conn.execute(
        "UPDATE runs SET status = ?, finished = ? WHERE run_id = ?",
        (status, event.ts, event.run_id),
    )


# Every task event becomes one row of one upsert, so a batch's task events go
# in a few multi-row statements, in order. In the update, column names are
# the row's values before it (SQLite's UPSERT), ``excluded`` the event's. A
# row with a ``started`` time records an attempt's start (and may record its
# end too: see `apply`).
_TASK_ROWS = batch.statements(
    "INSERT INTO tasks (run_id, task, status, attempts, started, finished, result, has_result, "
    "error_type, error)",
    10,
    "ON CONFLICT (run_id, task) DO UPDATE SET "
    "attempts = CASE WHEN excluded.started IS NOT NULL "
    "THEN max(attempts + 1, excluded.attempts) ELSE attempts END, "
    "started = coalesce(excluded.started, started), "
    "finished = CASE WHEN excluded.status = 'running' THEN NULL ELSE excluded.finished END, "
    "result = CASE WHEN excluded.status = 'completed' THEN excluded.result ELSE result END, "
    "has_result = CASE WHEN excluded.status = 'completed' THEN excluded.has_result ELSE has_result END, "
    "error_type = CASE WHEN excluded.status IN ('running', 'completed') "
    "THEN error_type ELSE excluded.error_type END, "
    "error = CASE WHEN excluded.status IN ('running', 'completed') THEN error ELSE excluded.error END, "
    "status = excluded.status",
)

TaskRow = tuple[Any, ...]


def _task_key(event: Event) -> tuple[str, str]:
    task = event.data["task"]
    if not isinstance(task, str) or not isinstance(event.run_id, str):
        raise TypeError(f"task and run id must be strings, got {task!r}, {event.run_id!r}")
    return event.run_id, task


def _task_started(event: Event) -> TaskRow:
    run_id, task = _task_key(event)
    attempt = int(event.data.get("attempt") or 1)
    return (run_id, task, "running", attempt, event.ts, None, None, 0, None, None)


def _task_completed(event: Event) -> TaskRow:
    run_id, task = _task_key(event)
    data = event.data
    result = _json_or_none(data.get("result"))
    return (
        run_id, task, "completed", int(data.get("attempt") or 1), None, event.ts,
        result, int(result is not None), None, None,
    )


def _task_ended(event: Event, status: str) -> TaskRow:
    run_id, task = _task_key(event)
    data = event.data
    return (
        run_id, task, status, int(data.get("attempt") or 0), None, event.ts, None, 0,
        data.get("error_type"), data.get("error"),
    )


def _saga_step(conn: sqlite3.Connection, event: Event, action: str) -> None:
    data = event.data
    result = _json_or_none(data.get("result")) if data.get("result_recorded", True) else None
    conn.execute(
        "INSERT OR REPLACE INTO saga_steps (run_id, step, action, position, ts, result) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (event.run_id, data["step"], action, data.get("index"), event.ts, result),
    )


def _saga_direction(conn: sqlite3.Connection, event: Event, direction: str) -> None:
    conn.execute(
        "UPDATE runs SET data = json_set(data, '$.direction', ?) WHERE run_id = ?",
        (direction, event.run_id),
    )


def _fsm_state(conn: sqlite3.Connection, event: Event) -> None:
    data = event.data
    instance = data.get("instance")
    if instance is None or data.get("to") is None:
        return
    context = data.get("context")
    context_json = _loose(context) if context is not None else None
    conn.execute(
        "INSERT INTO fsm_instances (workflow, instance_id, state, context, updated) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workflow, instance_id) DO UPDATE SET "
        "state = excluded.state, context = coalesce(excluded.context, context), "
        "updated = excluded.updated",
        (event.workflow or "", instance, data["to"], context_json, event.ts),
    )
    if event.type == "fsm.transitioned":
        entry = {"from": data.get("from"), "event": data.get("event"), "to": data["to"],
                 "time": data.get("time", event.ts)}
        conn.execute(
            "UPDATE fsm_instances SET history = json_insert(history, '$[#]', json(?)) "
            "WHERE workflow = ? AND instance_id = ?",
            (_loose(entry), event.workflow or "", instance),
        )


def _fsm_reset(conn: sqlite3.Connection, event: Event) -> None:
    conn.execute(
        "UPDATE fsm_instances SET state = ?, context = '{}', history = '[]', updated = ? "
        "WHERE workflow = ? AND instance_id = ?",
        (event.data.get("to"), event.ts, event.workflow or "", event.data.get("instance")),
    )


TASK_ROWS: Mapping[str, Callable[[Event], TaskRow]] = {
    "task.started": _task_started,
    "task.completed": _task_completed,
    "task.retrying": lambda e: _task_ended(e, "retrying"),
    "task.failed": lambda e: _task_ended(e, "failed"),
    "task.skipped": lambda e: _task_ended(e, "skipped"),
}

Applier = Callable[[sqlite3.Connection, Event], None]
APPLIERS: Mapping[str, Applier] = {
    "run.started": lambda c, e: _run_started(c, e, "dag"),
    "run.resumed": lambda c, e: _run_started(c, e, "dag"),
    "run.completed": lambda c, e: _run_finished(c, e, "completed"),
    "run.failed": lambda c, e: _run_finished(c, e, "failed"),
    "run.cancelled": lambda c, e: _run_finished(c, e, "cancelled"),
    "saga.started": lambda c, e: _run_started(c, e, "saga"),
    "saga.step.completed": lambda c, e: _saga_step(c, e, "completed"),
    "saga.step.failed": lambda c, e: _saga_direction(c, e, "backward"),
    "saga.compensation.started": lambda c, e: _saga_direction(c, e, "backward"),
    "saga.compensation.completed": lambda c, e: _saga_step(c, e, "compensated"),
    "saga.completed": lambda c, e: _run_finished(c, e, "completed"),
    "saga.compensated": lambda c, e: _run_finished(c, e, "compensated"),
    "saga.marked_compensated": lambda c, e: _run_finished(c, e, "compensated"),
    "saga.compensation_failed": lambda c, e: _run_finished(c, e, "compensation_failed"),
    "fsm.instance_created": _fsm_state,
    "fsm.transitioned": _fsm_state,
    "fsm.reset": _fsm_reset,
}


def entry(event: Event) -> Any:
    """What ``event`` means to the journal, built on the publishing thread.

    A task event becomes its row (a tuple), an event another table keeps is
    returned as is, for `apply` to write; None for the rest. An event whose
    data does not fit the journal (a task event without a task, say) is
    logged and skipped: it is still in the event log.
    """
    kind = event.type
    build = TASK_ROWS.get(kind)
    if build is not None:
        if event.run_id is None:
            return None
        try:
            return build(event)
        except (LookupError, TypeError, ValueError) as exc:
            log.warning("journal skipped %r: %s", event, exc)
            return None
    if kind in APPLIERS and (event.run_id is not None or kind.startswith("fsm.")):
        return event
    return None


def apply(conn: sqlite3.Connection, entries: list[Any]) -> None:
    """Update the journal from `entry` results, in order (None entries are skipped).

    A task's start and its end in the same batch become one row, so most
    tasks cost one insert instead of an insert and an upsert.
    """
    rows: list[TaskRow] = []
    started: dict[tuple[str, str], int] = {}
    for item in entries:
        if item is None:
            continue
        if type(item) is tuple:
            key = (item[0], item[1])
            if item[4] is None:
                at = started.pop(key, None)
                if at is not None:
                    start = rows[at]
                    rows[at] = (*item[:3], max(item[3], start[3]), start[4], *item[5:])
                    continue
            else:
                started[key] = len(rows)
            rows.append(item)
            continue
        if rows:
            batch.execute_rows(conn, _TASK_ROWS, rows)
            rows = []
            started.clear()
        try:
            APPLIERS[item.type](conn, item)
        except (sqlite3.IntegrityError, LookupError, TypeError, ValueError, RecursionError) as exc:
            log.warning("journal skipped %r: %s", item, exc)
    if rows:
        batch.execute_rows(conn, _TASK_ROWS, rows)


# -- reading -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A journalled run: a DAG run or a saga."""

    run_id: str
    workflow: str | None
    kind: str
    status: str
    started: float | None
    finished: float | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A DAG task's journal: status, attempts started, and its result if stored."""

    task: str
    status: str
    attempts: int
    started: float | None
    finished: float | None
    result: Any
    has_result: bool
    error_type: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class SagaRecord:
    """A saga run's journal: results of the steps completed, steps compensated, direction."""

    run_id: str
    completed: dict[str, Any] = field(default_factory=dict)
    compensated: list[str] = field(default_factory=list)
    direction: str = "forward"


@dataclass(frozen=True, slots=True)
class FsmRecord:
    """A state-machine instance as journalled (``context`` None: never recorded)."""

    workflow: str | None
    instance_id: str
    state: str
    context: dict[str, Any] | None
    history: list[dict[str, Any]]
    updated: float | None


def runs(conn: sqlite3.Connection, *, status: str | None = None, kind: str | None = None) -> list[RunRecord]:
    """Runs, oldest first, optionally by status and kind."""
    sql = "SELECT run_id, workflow, kind, status, started, finished, data FROM runs WHERE 1"
    params: list[Any] = []
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    rows = conn.execute(sql + " ORDER BY started, rowid", params).fetchall()
    return [RunRecord(*row[:6], json.loads(row[6])) for row in rows]


def tasks(conn: sqlite3.Connection, run_id: str) -> dict[str, TaskRecord]:
    """Every journalled task of ``run_id``."""
    rows = conn.execute(
        "SELECT task, status, attempts, started, finished, result, has_result, error_type, error "
        "FROM tasks WHERE run_id = ?",
        (run_id,),
    ).fetchall()
    return {
        row[0]: TaskRecord(
            row[0], row[1], row[2], row[3], row[4],
            json.loads(row[5]) if row[6] else None, bool(row[6]), row[7], row[8],
        )
        for row in rows
    }


def saga_record(conn: sqlite3.Connection, run_id: str) -> SagaRecord:
    """The steps ``run_id`` completed (with results) and compensated, and its direction.

    A step result JSON could not hold comes back as None.
    """
    rows = conn.execute(
        "SELECT step, action, result FROM saga_steps WHERE run_id = ? ORDER BY position, ts",
        (run_id,),
    ).fetchall()
    row = conn.execute("SELECT data FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    direction = json.loads(row[0]).get("direction", "forward") if row else "forward"
    return SagaRecord(
        run_id,
        {step: json.loads(result) if result is not None else None
         for step, action, result in rows if action == "completed"},
        [step for step, action, _ in rows if action == "compensated"],
        "backward" if direction in ("backward", "compensate") else "forward",
    )


def fsm_instances(conn: sqlite3.Connection, workflow: str | None = None) -> list[FsmRecord]:
    """Journalled state-machine instances, optionally of one workflow."""
    sql = "SELECT workflow, instance_id, state, context, history, updated FROM fsm_instances"
    params: tuple[Any, ...] = ()
    if workflow is not None:
        sql += " WHERE workflow = ?"
        params = (workflow,)
    return [
        FsmRecord(
            row[0] or None, row[1], row[2], json.loads(row[3]) if row[3] is not None else None,
            json.loads(row[4]), row[5],
        )
        for row in conn.execute(sql + " ORDER BY rowid", params)
    ]
