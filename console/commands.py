"""Operator commands: the console's only way to change the engine.

Each command calls the engine's public API (``Engine`` from
``engine.host.engine`` and its runtime's dead-letter queue and breaker registry)
and returns what it returned. The app runs every command in a worker thread
(`FlowConsoleApp.perform`), never on the UI thread, and refuses all of them
under ``--readonly``; the outcome comes back as engine events.

Every command the engine audits (dead letters, breakers, saga
compensations) is sent with the operator as ``actor``: the OS user name
unless the console was opened with ``--actor NAME``.
"""

from __future__ import annotations

import getpass
from typing import Any

from engine import FlowError

# The actor when the OS cannot say who is logged in (no passwd entry, no USER).
UNKNOWN_OPERATOR = "console"


def os_user() -> str:
    """The name of the user running the console, for the audit trail."""
    try:
        return getpass.getuser() or UNKNOWN_OPERATOR
    except (KeyError, OSError):
        return UNKNOWN_OPERATOR


class NoEngineError(RuntimeError):
    """The console was started without an engine (recorded events only)."""

    def __init__(self) -> None:
        super().__init__("no engine attached: this console only shows recorded events")


class EngineCommands:
    """The operator's commands on one engine (or none: every command refuses)."""

    def __init__(self, engine: Any | None, *, actor: str | None = None) -> None:
        self.engine = engine
        self.actor = actor or os_user()

    def _engine(self) -> Any:
        if self.engine is None:
            raise NoEngineError()
        return self.engine

    def workflow_names(self) -> list[str]:
        return list(self._engine().workflow_names()) if self.engine is not None else []

    def start_run(self, workflow: str) -> Any:
        return self._engine().start_run(workflow)

    def rerun_from(self, workflow: str, run_id: str, task_id: str) -> Any:
        return self._engine().rerun_from(workflow, run_id, task_id)

    def cancel_run(self, run_id: str) -> Any:
        return self._engine().cancel_run(run_id)

    def fire(self, machine: str, instance_id: str, event: str) -> Any:
        return self._engine().fire(machine, instance_id, event)

    def reload(self) -> Any:
        return self._engine().reload()

    def dlq_retry(self, letter_id: str, *, actor: str | None = None, reason: str | None = None) -> Any:
        return self._engine().runtime.dlq.retry(letter_id, actor=actor or self.actor, reason=reason)

    def dlq_replay(self, letter_id: str, *, actor: str | None = None, reason: str | None = None) -> Any:
        return self._engine().runtime.dlq.replay(letter_id, actor=actor or self.actor, reason=reason)

    def dlq_discard(self, letter_id: str, reason: str, *, actor: str | None = None) -> Any:
        return self._engine().runtime.dlq.discard(letter_id, reason, actor=actor or self.actor)

    def dlq_edit_payload(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        return self._engine().runtime.dlq.edit_payload(letter_id, payload, actor=actor or self.actor)

    def breaker_force_open(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._engine().runtime.breakers.force_open(name, actor=actor or self.actor, reason=reason)

    def breaker_force_closed(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._engine().runtime.breakers.force_closed(name, actor=actor or self.actor, reason=reason)

    def breaker_reset(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._engine().runtime.breakers.reset(name, actor=actor or self.actor, reason=reason)

    # -- panels (reads are allowed under --readonly; the panels call them) --

    def dlq_record(self, letter_id: str) -> dict[str, Any]:
        """The full record of one letter (payload, traceback, history): events carry a summary."""
        return self._engine().runtime.dlq.get(letter_id).to_dict()

    def dlq_retry_many(self, letter_ids: list[str], *, actor: str | None = None) -> dict[str, list[str]]:
        """Retry each letter in turn; returns which resolved, failed again or could not start."""
        dlq = self._engine().runtime.dlq
        outcome: dict[str, list[str]] = {"resolved": [], "dead": [], "refused": []}
        for letter_id in letter_ids:
            try:
                letter = dlq.retry(letter_id, actor=actor or self.actor, reason="bulk retry")
            except FlowError:
                # Busy, already settled, evicted, or no retrier: skip it, keep going.
                outcome["refused"].append(letter_id)
                continue
            outcome["resolved" if letter.status == "resolved" else "dead"].append(letter_id)
        return outcome

    def dlq_edit_and_retry(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        self.dlq_edit_payload(letter_id, payload, actor=actor)
        return self.dlq_retry(letter_id, actor=actor, reason="after editing the payload")

    def dlq_edit_and_replay(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        self.dlq_edit_payload(letter_id, payload, actor=actor)
        return self.dlq_replay(letter_id, actor=actor, reason="after editing the payload")

    def breaker_snapshots(self) -> list[dict[str, Any]]:
        return self._engine().runtime.breakers.snapshots()

    def metrics_families(self) -> list[dict[str, Any]]:
        return self._engine().runtime.metrics.collect()

    def _saga(self, name: str) -> Any:
        saga = self._engine().runtime.definitions.get(name)
        if saga is None or not hasattr(saga, "retry_compensations"):
            raise LookupError(f"no saga named {name!r} is loaded")
        return saga

    def saga_retry_compensation(self, saga: str, run_id: str, *, actor: str | None = None) -> Any:
        return self._saga(saga).retry_compensations(run_id, actor=actor or self.actor)

    def saga_mark_compensated(self, saga: str, run_id: str, reason: str, *, actor: str | None = None) -> Any:
        return self._saga(saga).mark_compensated(run_id, reason, actor=actor or self.actor)
