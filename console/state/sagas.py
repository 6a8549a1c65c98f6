"""View state of the sagas panel, built from ``saga.*`` events only.

Each saga run (keyed by its run id) keeps its steps in definition order with
a forward status and a compensation status, and a compensation log in the
order the compensations ran. A run in ``compensation_failed`` is the one an
operator must act on; `SagaView.rows` puts those first. Only the UI thread
calls `apply`, so no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

RUN_LIMIT = 500
LOG_LIMIT = 200

RUNNING = "running"
COMPLETED = "completed"
COMPENSATING = "compensating"
COMPENSATED = "compensated"
COMPENSATION_FAILED = "compensation_failed"
FAILED = "failed"

_STATUS_RANK = {COMPENSATION_FAILED: 0, COMPENSATING: 1, RUNNING: 2, FAILED: 3, COMPENSATED: 4, COMPLETED: 5}


@dataclass(slots=True)
class SagaStepView:
    """One step of one saga run: how its forward action and its compensation went."""

    name: str
    forward: str = "pending"
    compensation: str = ""
    started: float | None = None
    finished: float | None = None
    duration: float | None = None
    error: str | None = None
    compensation_error: str | None = None


@dataclass(frozen=True, slots=True)
class CompensationEntry:
    """One line of the compensation log."""

    time: float
    step: str
    outcome: str
    error_type: str | None = None
    error: str | None = None
    attempt: int | None = None


@dataclass(slots=True)
class SagaRunView:
    """One run of a saga."""

    saga: str
    run_id: str
    status: str
    started: float
    finished: float | None = None
    steps: dict[str, SagaStepView] = field(default_factory=dict)
    log: list[CompensationEntry] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None
    marked_reason: str | None = None
    marked_by: str | None = None

    @property
    def stuck(self) -> bool:
        """True when the run needs an operator: a compensation failed for good."""
        return self.status == COMPENSATION_FAILED

    def failed_compensations(self) -> list[str]:
        return [s.name for s in self.steps.values() if s.compensation == "failed"]


class SagaView:
    """Saga runs folded from events."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.specs: dict[str, list[str]] = {}
        self.runs: dict[str, SagaRunView] = {}

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            kind = event.type
            if kind in ("workflow.loaded", "workflow.reloaded"):
                changed |= self._on_spec(event.data)
            elif kind.startswith("saga.") and event.run_id:
                self._on_saga(event)
                changed = True
        return changed

    def _on_spec(self, data: Mapping[str, Any]) -> bool:
        spec = data.get("spec")
        if data.get("kind") != "saga" or not isinstance(spec, Mapping):
            return False
        self.specs[str(data.get("name"))] = [str(s) for s in spec.get("steps") or ()]
        return True

    def _run_for(self, event: Event) -> SagaRunView:
        run_id = str(event.run_id)
        run = self.runs.get(run_id)
        if run is None:
            saga = str(event.workflow or event.data.get("saga") or "?")
            run = SagaRunView(saga, run_id, RUNNING, event.ts)
            for name in event.data.get("steps") or self.specs.get(saga, ()):
                run.steps[str(name)] = SagaStepView(str(name))
            self.runs[run_id] = run
            if len(self.runs) > RUN_LIMIT:
                self._evict()
        return run

    def _evict(self) -> None:
        # Drop the oldest finished runs; runs that need an operator stay.
        for run_id in sorted(self.runs, key=lambda r: self.runs[r].started):
            if len(self.runs) <= RUN_LIMIT:
                return
            if not self.runs[run_id].stuck:
                del self.runs[run_id]

    def _step(self, run: SagaRunView, data: Mapping[str, Any]) -> SagaStepView:
        name = str(data.get("step", "?"))
        step = run.steps.get(name)
        if step is None:
            step = run.steps[name] = SagaStepView(name)
        return step

    def _on_saga(self, event: Event) -> None:
        run = self._run_for(event)
        data = event.data
        kind = event.type
        if kind == "saga.started":
            run.status = RUNNING
            run.started = event.ts
        elif kind == "saga.step.started":
            step = self._step(run, data)
            step.forward, step.started = "running", event.ts
        elif kind == "saga.step.completed":
            step = self._step(run, data)
            step.forward, step.finished = "completed", event.ts
            step.duration = _float(data.get("duration"))
        elif kind == "saga.step.failed":
            step = self._step(run, data)
            step.forward, step.finished = "failed", event.ts
            step.duration = _float(data.get("duration"))
            step.error = _error_text(data)
            run.failed_step, run.error = step.name, step.error
            run.status = COMPENSATING
        elif kind.startswith("saga.compensation."):
            self._on_compensation(run, event)
        elif kind == "saga.completed":
            run.status, run.finished = COMPLETED, event.ts
        elif kind == "saga.compensated":
            run.status, run.finished = COMPENSATED, event.ts
        elif kind == "saga.compensation_failed":
            run.status, run.finished = COMPENSATION_FAILED, event.ts
        elif kind == "saga.marked_compensated":
            run.status, run.finished = COMPENSATED, event.ts
            run.marked_reason = _opt_str(data.get("reason"))
            run.marked_by = _opt_str(data.get("actor"))
            for step in run.steps.values():
                if step.compensation == "failed":
                    step.compensation = "marked"
            self._log(run, CompensationEntry(event.ts, "*", "marked compensated", error=run.marked_reason))
        elif kind == "saga.failed":
            run.status, run.finished = FAILED, event.ts
            run.error = run.error or _error_text(data)

    def _on_compensation(self, run: SagaRunView, event: Event) -> None:
        data = event.data
        step = self._step(run, data)
        outcome = event.type.rsplit(".", 1)[1]
        attempt = data.get("attempt", data.get("attempts"))
        error_type = _opt_str(data.get("error_type"))
        error = _opt_str(data.get("error"))
        step.compensation = "running" if outcome == "started" else outcome
        if run.status == RUNNING:
            run.status = COMPENSATING
        if outcome == "failed":
            step.compensation_error = _error_text(data)
        elif outcome == "completed":
            step.compensation_error = None
        self._log(run, CompensationEntry(
            event.ts, step.name, outcome, error_type, error,
            attempt if isinstance(attempt, int) else None,
        ))

    def _log(self, run: SagaRunView, entry: CompensationEntry) -> None:
        run.log.append(entry)
        if len(run.log) > LOG_LIMIT:
            del run.log[: len(run.log) - LOG_LIMIT]

    def rows(self) -> list[SagaRunView]:
        """Runs needing an operator first, then running ones, then the newest finished."""
        return sorted(self.runs.values(), key=lambda r: (_STATUS_RANK.get(r.status, 9), -r.started, r.run_id))

    def stuck_count(self) -> int:
        return sum(1 for r in self.runs.values() if r.stuck)

    def age(self, run: SagaRunView) -> float:
        return max(0.0, self.clock.time() - run.started)


def _error_text(data: Mapping[str, Any]) -> str | None:
    if data.get("error") is None and data.get("error_type") is None:
        return None
    return f"{data.get('error_type') or 'Error'}: {data.get('error') or ''}"


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
