"""Recovery at start: resume what a crash interrupted, from the journal.

* A DAG run still ``running`` in the journal is started again under its run
  id (``definition.start(run_id=..., restored_results=..., prior_attempts=...)``).
  Tasks whose completion (with a JSON result) was committed come back with
  their results and never run again; every other task runs. Attempts that
  failed or were cut short by the crash count against the task's maximum
  attempts, so a task that kills the process on every attempt ends in the
  dead-letter queue (and a task with a single attempt that was in flight
  is dead-lettered rather than run again). A completed attempt whose result
  was not JSON does not count: that task simply runs again.
* A saga still ``running`` resumes (``definition.resume(run_id, completed,
  compensated, direction)``, on a thread of its own; ``RecoveryReport.sagas``
  holds a future of each outcome): forward if it was going forward, unless
  ``saga_direction="backward"`` is asked for; a saga that was compensating
  finishes its compensations.
* State-machine instances come back in their state with context and history:
  those journalled by earlier sessions (``machines``, read when the store
  was attached), never one this session created.

A DAG run that was a dead letter's retry is not resumed: it is ended with
``run.failed`` (``interrupted``) and reported in ``RecoveryReport.failed``.
A run whose workflow is not loaded, or whose resume raises, is reported in
``RecoveryReport.failed`` and left ``running`` in the journal for a later
start; recovery goes on with the others.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from .core import Store
    from .journal import FsmRecord

log = logging.getLogger("engine.store")


class RestoredInstance(NamedTuple):
    """A state-machine instance recovery put back: its workflow and its id."""

    workflow: str | None
    instance_id: str


class SkippedUnit(NamedTuple):
    """Something recovery could not resume, and why."""

    unit: str
    reason: str


@dataclass
class RecoveryReport:
    """What `Store.recover` did: ids resumed or restored, and what could not be."""

    dag_runs: dict[str, Any] = field(default_factory=dict)
    sagas: dict[str, Future] = field(default_factory=dict)
    fsm_instances: list[RestoredInstance] = field(default_factory=list)
    failed: list[SkippedUnit] = field(default_factory=list)

    @property
    def nothing_to_do(self) -> bool:
        """True when there was nothing to resume or restore."""
        return not (self.dag_runs or self.sagas or self.fsm_instances or self.failed)


def recover(
    store: Store,
    runtime: Any,
    definitions: Any,
    *,
    saga_direction: Literal["forward", "backward"] | None = None,
    machines: list[FsmRecord] | None = None,
) -> RecoveryReport:
    """Resume interrupted DAG runs and sagas and restore state machines; see the module.

    ``machines``: the instances to restore (None: every one journalled now).
    """
    report = RecoveryReport()
    for run in store.runs(status="running", kind="dag"):
        if run.data.get("retry_of"):
            _end_interrupted_retry(runtime, run, report)
            continue
        definition = definitions.get(run.workflow) if run.workflow else None
        if definition is None or not hasattr(definition, "start"):
            _fail(report, run.run_id, f"workflow {run.workflow!r} is not loaded")
            continue
        tasks = store.tasks(run.run_id)
        restored = {t: rec.result for t, rec in tasks.items() if rec.status == "completed" and rec.has_result}
        # A completed attempt whose result JSON could not hold succeeded: it
        # runs again without counting against the task's maximum.
        prior = {
            t: used
            for t, rec in tasks.items()
            if t not in restored and (used := rec.attempts - (rec.status == "completed")) > 0
        }
        try:
            report.dag_runs[run.run_id] = definition.start(
                run_id=run.run_id, restored_results=restored, prior_attempts=prior
            )
        except Exception as exc:  # noqa: BLE001 - one bad run must not stop recovery
            _fail(report, run.run_id, f"{type(exc).__name__}: {exc}")
    for run in store.runs(status="running", kind="saga"):
        definition = definitions.get(run.workflow) if run.workflow else None
        if definition is None or not hasattr(definition, "resume"):
            _fail(report, run.run_id, f"saga {run.workflow!r} is not loaded")
            continue
        journal = store.saga_steps(run.run_id)
        direction = journal.direction if journal.direction == "backward" else (saga_direction or "forward")
        report.sagas[run.run_id] = _resume_saga(definition, run.run_id, journal, direction)
    _restore_machines(
        store.fsm_instances() if machines is None else machines, runtime, definitions, report
    )
    return report


def _resume_saga(definition: Any, run_id: str, journal: Any, direction: str) -> Future:
    """Resume one saga on a thread of its own (a saga runs its steps on the
    calling thread, and recovery must not wait for them); a future of its outcome."""
    future: Future = Future()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(
                definition.resume(run_id, journal.completed, journal.compensated, direction)
            )
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the future
            future.set_exception(exc)

    threading.Thread(
        target=contextvars.copy_context().run, args=(run,), name=f"saga-resume-{run_id}", daemon=True
    ).start()
    return future


def _restore_machines(
    machines: list[FsmRecord], runtime: Any, definitions: Any, report: RecoveryReport
) -> None:
    from ..fsm.registry import InstanceRegistry

    registry = InstanceRegistry(runtime)
    for record in machines:
        name = record.workflow
        if name is None:
            _fail(report, record.instance_id, "state machine without a name cannot be restored")
            continue
        try:
            if name not in registry.names():
                found = definitions.get(name)
                if found is not None:
                    registry.register(found)
            registry.restore(name, record.instance_id, record.state, record.context, record.history)
        except Exception as exc:  # noqa: BLE001 - one bad instance must not stop recovery
            _fail(report, f"{name}/{record.instance_id}", f"{type(exc).__name__}: {exc}")
            continue
        report.fsm_instances.append(RestoredInstance(name, record.instance_id))


def _end_interrupted_retry(runtime: Any, run: Any, report: RecoveryReport) -> None:
    """End a dead-letter retry's run that a crash cut short as failed.

    Running the workflow again under its id would run every task of the
    workflow, not the one retried; the letter is what is retried again.
    """
    from ..events import Event

    letter = run.data["retry_of"].get("dead_letter")
    tasks = list(run.data.get("tasks") or ())
    reason = f"interrupted by a restart; retry dead letter {letter} again"
    runtime.bus.publish(Event(
        "run.failed",
        {"duration": None, "counts": {}, "failed": tasks,
         "errors": {task: reason for task in tasks}, "interrupted": True},
        workflow=run.workflow, run_id=run.run_id,
    ))
    _fail(report, run.run_id, f"dead-letter retry {reason}")


def _fail(report: RecoveryReport, unit: str, reason: str) -> None:
    log.warning("recovery of %s skipped: %s", unit, reason)
    report.failed.append(SkippedUnit(unit, reason))
