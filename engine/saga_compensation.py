"""Compensating saga runs, and settling the runs whose compensation failed.

The compensation half of `engine.saga.SagaOrchestrator`, kept apart from the
forward half: running the compensations of a failed run in reverse order
under the retry policy, parking the ones that still fail in the dead-letter
queue, deciding the final status, and the operator actions and dead-letter
retries that settle a run stuck in ``COMPENSATION_FAILED``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .dlq import DeadLetterBusyError, DeadLetterNotFound, DeadLetterStateError
from .jsonable import plain_or_none
from .retry import RetryPolicy
from .saga_dlq import SOURCE
from .saga_model import (
    CompensationOutcome,
    SagaDefinitionError,
    SagaRun,
    SagaStateError,
    SagaStatus,
    SagaStep,
    error_fields,
)

if TYPE_CHECKING:
    from .runtime import Runtime
    from .saga_dlq import SagaBook

log = logging.getLogger("engine.saga")


class CompensationMixin:
    """What `SagaOrchestrator` does once a run has failed.

    It relies on the orchestrator's ``name``, ``runtime``, ``steps``,
    ``compensation_retry``, ``_book``, ``_lock``, ``_step``, ``_invoke``,
    ``_emit``, ``_finish``, ``_is_latest`` and ``run``.
    """

    name: str
    runtime: Runtime
    compensation_retry: RetryPolicy
    _book: SagaBook

    # -- compensation ------------------------------------------------------

    def _compensation_order(self, run: SagaRun) -> list[str]:
        # A step that timed out may have taken effect after all, so it is
        # undone too, first, since it was the last to start.
        order = list(reversed(run.completed))
        if run.timed_out and run.timed_out not in order:
            order.insert(0, run.timed_out)
        return order

    def _compensate_all(self, run: SagaRun) -> None:
        run.status = SagaStatus.COMPENSATING
        with self._lock:
            if self._is_latest(run):
                self.status = SagaStatus.COMPENSATING
        for name in self._compensation_order(run):
            if name in run.compensated:
                continue
            step = self._step(name)
            if step.compensate is None:
                run.outcomes[name] = CompensationOutcome(name, "skipped", 0)
                continue
            self._compensate(run, step, park=True)
        self._settle(run, actor=None)

    def _compensate(
        self, run: SagaRun, step: SagaStep, *, park: bool, actor: str | None = None,
        policy: RetryPolicy | None = None,
    ) -> BaseException | None:
        """Run one compensation under the policy; returns its error, if any."""
        runtime = self.runtime
        clock = runtime.clock
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            return self._invoke(step, step.compensate, step.compensate_takes_context, run, None)

        self._emit("saga.compensation.started", run, step=step.name, actor=actor)
        began = clock.monotonic()
        span = None
        try:
            with runtime.tracer.start_span(
                f"compensate:{step.name}",
                {"workflow": self.name, "saga.step": step.name, "saga.run_id": run.run_id},
            ) as span:
                (policy or self.compensation_retry).call(
                    attempt, clock=clock, publish=runtime.bus.publish,
                    unit=f"{self.name}.{step.name}.compensate",
                )
        except Exception as exc:
            previous = run.outcomes.get(step.name)
            letter_id = previous.letter_id if previous else None
            if park:
                letter_id = self._park(run, step, exc, attempts, span).id
            run.outcomes[step.name] = CompensationOutcome(
                step.name, "failed", attempts, type(exc).__name__, str(exc), letter_id
            )
            self._emit("saga.compensation.failed", run, step=step.name, attempts=attempts,
                       letter_id=letter_id, actor=actor, duration=clock.monotonic() - began,
                       **error_fields(exc))
            return exc
        run.outcomes[step.name] = CompensationOutcome(step.name, "compensated", attempts)
        if step.name not in run.compensated:
            run.compensated.append(step.name)
        self._emit("saga.compensation.completed", run, step=step.name, attempts=attempts,
                   actor=actor, duration=clock.monotonic() - began)
        return None

    def _park(self, run: SagaRun, step: SagaStep, exc: Exception, attempts: int, span: Any) -> Any:
        runtime = self.runtime
        generation = runtime.definitions.generation(self.name)
        return runtime.dlq.add(
            source=SOURCE,
            unit=step.name,
            error=exc,
            payload={
                "saga": self.name,
                "run_id": run.run_id,
                "step": step.name,
                "context": plain_or_none(run.results),
                "failed_step": run.failed_step,
            },
            workflow=self.name,
            definition_version=generation or None,
            attempts=attempts,
            run_id=run.run_id,
            trace_id=getattr(span, "trace_id", None),
            span_id=getattr(span, "span_id", None),
        )

    def _settle(self, run: SagaRun, actor: str | None) -> None:
        """Set the run's final status from its outcomes and announce it."""
        failed = run.failed_compensations
        common = {
            "failed_step": run.failed_step,
            "compensated": list(run.compensated),
            "outcomes": [o.to_dict() for o in run.outcomes.values()],
            "actor": actor,
            **(error_fields(run.error) if run.error is not None else {}),
        }
        if failed:
            self._finish(run, SagaStatus.COMPENSATION_FAILED)
            self._book.park(run)
            self._emit("saga.compensation_failed", run, failed_compensations=failed, **common)
        else:
            self._finish(run, SagaStatus.COMPENSATED)
            self._book.release(run)
            self._emit("saga.compensated", run, **common)

    # -- operator actions --------------------------------------------------

    def retry_compensations(self, run_id: str, *, actor: str = "operator") -> SagaRun:
        """Run the failed compensations of a stuck run again (under the policy).

        When they all succeed the run becomes ``COMPENSATED`` and their
        dead letters are discarded; otherwise it stays ``COMPENSATION_FAILED``.
        """
        with self._book.lock:
            run = self._stuck(run_id)
            for name in [s for s in self._compensation_order(run) if s in run.failed_compensations]:
                letter_id = run.outcomes[name].letter_id
                if self._compensate(run, self._step(name), park=False, actor=actor) is None:
                    self._discard_letter(letter_id, f"compensation retried from saga run {run_id}", actor)
            self._settle(run, actor)
        return run

    def mark_compensated(self, run_id: str, reason: str, *, actor: str = "operator") -> SagaRun:
        """Declare a stuck run compensated by hand; ``reason`` is required and kept."""
        if not isinstance(reason, str) or not reason.strip():
            raise SagaStateError(self.name, run_id, "marking a run compensated needs a reason")
        with self._book.lock:
            run = self._stuck(run_id)
            failed = run.failed_compensations
            now = self.runtime.clock.time()
            run.notes.append({"action": "marked_compensated", "reason": reason, "actor": actor,
                              "time": now, "steps": failed})
            for name in failed:
                self._discard_letter(run.outcomes[name].letter_id, reason, actor)
                run.outcomes[name].status = "marked_compensated"
            self._finish(run, SagaStatus.COMPENSATED)
            self._book.release(run)
            self._emit("saga.marked_compensated", run, reason=reason, actor=actor, steps=failed)
        return run

    def _stuck(self, run_id: str) -> SagaRun:
        run = self.run(run_id)
        if run.status is not SagaStatus.COMPENSATION_FAILED:
            raise SagaStateError(
                self.name, run_id, f"it is {run.status.value}, not compensation_failed"
            )
        return run

    def _discard_letter(self, letter_id: str | None, reason: str, actor: str) -> None:
        if letter_id is None:
            return
        try:
            self.runtime.dlq.discard(letter_id, reason, actor=actor)
        except (DeadLetterNotFound, DeadLetterStateError, DeadLetterBusyError) as exc:
            # Already settled (or evicted) in the queue: nothing left to clear.
            log.info("dead letter %s of saga %s not discarded: %s", letter_id, self.name, exc)

    def _retry_letter(self, step_name: str, payload: dict[str, Any], letter_id: str) -> None:
        """Run one parked compensation again (the dead-letter retrier's work)."""
        step = self._step(step_name)
        if step.compensate is None:
            raise SagaDefinitionError(self.name, f"step {step_name!r} has no compensation any more")
        run_id = str(payload.get("run_id") or letter_id)
        with self._book.lock:
            run = self._book.find(self.name, run_id)
            done = run.outcomes.get(step_name) if run is not None else None
            if done is not None and done.status in ("compensated", "marked_compensated"):
                return
            if run is None:
                run = SagaRun(self.name, run_id, SagaStatus.COMPENSATION_FAILED)
                run.results = dict(payload.get("context") or {})
                run.outcomes[step_name] = CompensationOutcome(step_name, "failed", 0, letter_id=letter_id)
            error = self._compensate(run, step, park=False, actor="dlq",
                                     policy=RetryPolicy.no_retry())
            if error is not None:
                raise error
            if run.status is SagaStatus.COMPENSATION_FAILED and not run.failed_compensations:
                self._settle(run, "dlq")
