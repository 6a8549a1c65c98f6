"""Sagas: `SagaOrchestrator`, with compensation an operator can see and drive.

``add_step(name, forward, compensate)`` then ``execute()`` runs the steps in
order and returns ``{step: result}``. When a step fails, the completed steps
are compensated in reverse order, each under a retry policy whose waits go
through the runtime clock; a compensation that still fails does not stop the
others: it is parked in the dead-letter queue (source
``"saga.compensation"``) and the run ends ``COMPENSATION_FAILED`` instead of
``COMPENSATED``. Either way ``execute`` raises one `SagaError` naming the
failed step, its error and each compensation's outcome.

Steps may take the saga context (the results so far, by step name) and may
have a timeout. Every run has a run id; progress is events (``saga.*``,
each with ``workflow=`` and ``run_id=``) and spans, never prints. An operator
can retry a stuck run's failed compensations or mark it compensated with a
reason; recovery resumes a run with `SagaOrchestrator.resume`.

Thread safety: ``_lock`` guards ``_runs`` and the basic API's latest-run views
(``status``, ``executed_steps``, each step's ``result``/``executed``). A run
is changed by the thread executing it; settling a stuck run is serialised by
the runtime's `SagaBook` lock. Several runs may execute at once.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Iterable, cast

from ..events import Event
from ..error_text import error_message
from ..jsonable import NOT_PLAIN, plain_copy, plain_or_none
from ..resilience.retry import RetryPolicy
from .dead_letters import SOURCE, book_for
from .model import (
    CompensationOutcome,
    SagaDefinitionError,
    SagaError,
    SagaRun,
    SagaStateError,
    SagaStatus,
    SagaStep,
    SagaStepTimeout,
    error_fields,
)
from ..observe.tracing import current_span, run_scope
from ..resilience.dlq.queue import DeadLetterBusyError, DeadLetterNotFound, DeadLetterStateError

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = [
    "CompensationOutcome",
    "SagaDefinitionError",
    "SagaError",
    "SagaOrchestrator",
    "SagaRun",
    "SagaStateError",
    "SagaStatus",
    "SagaStep",
    "SagaStepTimeout",
]

DEFAULT_COMPENSATION_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=5.0)


log = logging.getLogger("engine.saga")

class SagaOrchestrator:
    """A saga run by one coordinator, step after step.

    ``compensation_retry`` is the policy each compensation runs under
    (default: 3 attempts). ``runs()`` lists recent runs (at most
    ``max_runs``, never dropping one stuck in ``COMPENSATION_FAILED``);
    ``status`` and ``executed_steps`` describe the latest run, as in the basic API.
    """

    def __init__(
        self,
        name: str,
        *,
        runtime: Runtime | None = None,
        compensation_retry: RetryPolicy | None = None,
        max_runs: int = 1000,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise SagaDefinitionError(str(name), "a saga needs a non-empty name")
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        self.name = name
        self.runtime = runtime
        self.compensation_retry = compensation_retry or DEFAULT_COMPENSATION_RETRY
        self.max_runs = max_runs
        self.steps: list[SagaStep] = []
        self.status = SagaStatus.PENDING
        self.executed_steps: list[SagaStep] = []
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, SagaRun] = OrderedDict()
        self._book = book_for(runtime, SagaOrchestrator)
        self._book.adopt(self)

    # -- definition --------------------------------------------------------

    def add_step(
        self,
        name: str,
        forward: Callable[..., Any],
        compensate: Callable[..., Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> SagaStep:
        """Add a step; ``compensate`` undoes it (None: nothing to undo)."""
        if not isinstance(name, str) or not name:
            raise SagaDefinitionError(self.name, f"step names must be non-empty strings, got {name!r}")
        if any(step.name == name for step in self.steps):
            raise SagaDefinitionError(self.name, f"step {name!r} is defined twice")
        if not callable(forward):
            raise SagaDefinitionError(self.name, f"step {name!r}: forward is not callable: {forward!r}")
        if compensate is not None and not callable(compensate):
            raise SagaDefinitionError(self.name, f"step {name!r}: compensate is not callable: {compensate!r}")
        if timeout is not None and not timeout > 0:
            raise SagaDefinitionError(self.name, f"step {name!r}: timeout must be > 0, got {timeout!r}")
        step = SagaStep(name, forward, compensate, timeout=timeout)
        self.steps.append(step)
        return step

    def describe(self) -> dict[str, Any]:
        """The saga as a plain dict: ``{"steps": [names...]}``."""
        return {"steps": [step.name for step in self.steps]}

    def _step(self, name: str) -> SagaStep:
        for step in self.steps:
            if step.name == name:
                return step
        raise SagaDefinitionError(self.name, f"there is no step {name!r}")

    # -- runs --------------------------------------------------------------

    def runs(self) -> list[SagaRun]:
        """The recent runs, oldest first."""
        with self._lock:
            return list(self._runs.values())

    def run(self, run_id: str) -> SagaRun:
        """The run ``run_id`` (also one stuck from an earlier version of the saga)."""
        with self._lock:
            found = self._runs.get(run_id)
        found = found or self._book.find(self.name, run_id)
        if found is None:
            raise SagaStateError(self.name, run_id, "no such run")
        return found

    def _new_run(self, run_id: str | None) -> SagaRun:
        run = SagaRun(self.name, run_id or uuid.uuid4().hex[:16])
        with self._lock:
            if run.run_id in self._runs and self._runs[run.run_id].status in (
                SagaStatus.RUNNING, SagaStatus.COMPENSATING,
            ):
                raise SagaStateError(self.name, run.run_id, "a run with this id is in progress")
            self._runs[run.run_id] = run
            self._runs.move_to_end(run.run_id)
            removable = [
                rid for rid, r in self._runs.items()
                if r.status in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED)
            ]
            for rid in removable[: max(0, len(self._runs) - self.max_runs)]:
                del self._runs[rid]
            self.status = SagaStatus.RUNNING
            self.executed_steps = []
            for step in self.steps:
                step.result, step.executed = None, False
        return run

    def execute(self, run_id: str | None = None) -> dict[str, Any]:
        """Run every step; returns ``{step: result}`` or raises `SagaError`."""
        # A forward run ends with its results or raises SagaError.
        return cast(dict[str, Any], self._drive(self._new_run(run_id), 0, "forward", resumed=False))

    def resume(
        self,
        run_id: str,
        completed: dict[str, Any],
        compensated: Iterable[str] = (),
        direction: str = "forward",
        *,
        failed_step: str | None = None,
        error: BaseException | None = None,
    ) -> dict[str, Any] | SagaRun:
        """Carry on a run interrupted by a restart.

        ``completed`` maps the steps that had completed (a prefix of the
        steps) to their results. ``direction="forward"`` runs the steps after
        the last completed one and ends like `execute` (results, or
        `SagaError`). ``"compensate"`` (or ``"backward"``) finishes the
        compensations of the completed steps not in ``compensated`` and
        returns the `SagaRun`, whose ``status`` says how that ended: the
        failure itself was reported before the restart.
        """
        if direction == "backward":
            direction = "compensate"
        if direction not in ("forward", "compensate"):
            raise SagaDefinitionError(
                self.name,
                f"resume direction must be 'forward' or 'compensate' ('backward'), got {direction!r}",
            )
        names = [step.name for step in self.steps]
        unknown = [n for n in list(completed) + list(compensated) if n not in names]
        if unknown:
            raise SagaDefinitionError(self.name, f"cannot resume run {run_id!r}: unknown steps {unknown}")
        done = [n for n in names if n in completed]
        if done != names[: len(done)]:
            raise SagaDefinitionError(
                self.name, f"cannot resume run {run_id!r}: completed steps {done} are not a prefix of {names}"
            )
        run = self._new_run(run_id)
        run.completed = done
        run.results = {n: completed[n] for n in done}
        for name in compensated:
            run.compensated.append(name)
            run.outcomes[name] = CompensationOutcome(name, "compensated", 0)
        run.failed_step, run.error = failed_step, error
        return self._drive(run, len(done), direction, resumed=True)

    def _drive(
        self, run: SagaRun, start: int, direction: str, *, resumed: bool
    ) -> dict[str, Any] | SagaRun:
        clock = self.runtime.clock
        with run_scope(run.run_id), self.runtime.tracer.start_span(
            f"saga:{self.name}", {"workflow": self.name, "saga.run_id": run.run_id}
        ):
            run.status = SagaStatus.RUNNING
            run.started = clock.time()
            self._emit("saga.started", run, steps=[s.name for s in self.steps],
                       resumed=resumed, direction=direction, completed=list(run.completed))
            if direction == "forward":
                for index in range(start, len(self.steps)):
                    if not self._forward(run, index):
                        break
                else:
                    self._finish(run, SagaStatus.COMPLETED)
                    self._emit("saga.completed", run, results=plain_or_none(run.results),
                               duration=run.finished - run.started)
                    return dict(run.results)
            self._compensate_all(run)
            if direction == "compensate":
                return run
            raise SagaError(
                self.name, run.run_id, run.failed_step, run.error,
                [run.outcomes[s] for s in self._compensation_order(run) if s in run.outcomes],
                run.status,
            ) from run.error

    def _forward(self, run: SagaRun, index: int) -> bool:
        step = self.steps[index]
        clock = self.runtime.clock
        self._emit("saga.step.started", run, step=step.name, index=index)
        began = clock.monotonic()
        try:
            with self.runtime.tracer.start_span(
                f"step:{step.name}",
                {"workflow": self.name, "saga.step": step.name, "saga.run_id": run.run_id},
            ):
                result = self._invoke(step, step.forward, step.forward_takes_context, run, step.timeout)
        except Exception as exc:
            run.failed_step, run.error = step.name, exc
            if isinstance(exc, SagaStepTimeout):
                run.timed_out = step.name
            self._emit("saga.step.failed", run, step=step.name, index=index,
                       duration=clock.monotonic() - began, timed_out=isinstance(exc, SagaStepTimeout),
                       **error_fields(exc))
            return False
        run.results[step.name] = result
        run.completed.append(step.name)
        with self._lock:
            if self._is_latest(run):
                step.result, step.executed = result, True
                self.executed_steps.append(step)
        copied = plain_copy(result)
        self._emit("saga.step.completed", run, step=step.name, index=index,
                   duration=clock.monotonic() - began,
                   result=None if copied is NOT_PLAIN else copied,
                   result_recorded=copied is not NOT_PLAIN)
        return True

    def _invoke(
        self, step: SagaStep, fn: Callable[..., Any], takes_context: bool, run: SagaRun,
        timeout: float | None,
    ) -> Any:
        args = (dict(run.results),) if takes_context else ()
        if timeout is None:
            return fn(*args)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                outcome["result"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        # The step runs on its own thread so the saga can stop waiting for
        # it; a copied context keeps the step's span under the saga's.
        worker = threading.Thread(
            target=contextvars.copy_context().run, args=(call,),
            name=f"saga-{self.name}-{step.name}", daemon=True,
        )
        worker.start()
        if not done.wait(timeout):
            raise SagaStepTimeout(self.name, step.name, timeout)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def _finish(self, run: SagaRun, status: SagaStatus) -> None:
        run.status = status
        run.finished = self.runtime.clock.time()
        with self._lock:
            if self._is_latest(run):
                self.status = status

    def _is_latest(self, run: SagaRun) -> bool:
        """Whether ``run`` is the newest run (the one the basic API's views show); hold ``_lock``."""
        return bool(self._runs) and self._runs.get(next(reversed(self._runs))) is run

    # -- events ------------------------------------------------------------

    def _emit(self, kind: str, run: SagaRun, **data: Any) -> None:
        span = current_span()
        data["status"] = run.status.value
        self.runtime.bus.publish(Event(
            kind, data, workflow=self.name, run_id=run.run_id,
            trace_id=span.trace_id if span is not None else None,
            span_id=span.span_id if span is not None else None,
        ))

    def __repr__(self) -> str:
        steps = [s.name for s in self.steps]
        return f"SagaOrchestrator(name={self.name!r}, steps={steps}, status={self.status.value})"

    # -- compensation, and settling runs whose compensation failed ------------

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
        first_failure: float | None = None

        def attempt() -> Any:
            nonlocal attempts, first_failure
            attempts += 1
            try:
                return self._invoke(step, step.compensate, step.compensate_takes_context, run, None)
            except Exception:
                if first_failure is None:
                    first_failure = clock.time()
                raise

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
                letter_id = self._park(run, step, exc, attempts, span, first_failure).id
            run.outcomes[step.name] = CompensationOutcome(
                step.name, "failed", attempts, type(exc).__name__, error_message(exc), letter_id
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

    def _park(
        self, run: SagaRun, step: SagaStep, exc: Exception, attempts: int, span: Any,
        first_failure: float | None,
    ) -> Any:
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
            first_failure=first_failure,
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

    def retry_compensations(self, run_id: str, *, actor: str = "operator") -> SagaRun:
        """Run the failed compensations of a stuck run again (under the policy).

        When they all succeed the run becomes ``COMPENSATED`` and their
        dead letters are resolved; otherwise it stays ``COMPENSATION_FAILED``.
        """
        with self._book.lock:
            run = self._stuck(run_id)
            for name in [s for s in self._compensation_order(run) if s in run.failed_compensations]:
                letter_id = run.outcomes[name].letter_id
                if self._compensate(run, self._step(name), park=False, actor=actor) is None:
                    self._resolve_letter(letter_id, f"compensation retried from saga run {run_id}", actor)
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

    def _resolve_letter(self, letter_id: str | None, reason: str, actor: str) -> None:
        if letter_id is None:
            return
        try:
            self.runtime.dlq.resolve(letter_id, reason, actor=actor)
        except (DeadLetterNotFound, DeadLetterStateError, DeadLetterBusyError) as exc:
            # Already settled (or evicted) in the queue: nothing left to clear.
            log.info("dead letter %s of saga %s not resolved: %s", letter_id, self.name, exc)

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
