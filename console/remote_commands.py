"""The operator's commands on an engine in another process.

`RemoteCommands` has the methods of `console.commands.EngineCommands`, so
the console's views call it the same way; each writes a command for the
owner of the state directory (`engine.store.commands`) and waits, on the
worker thread the app already runs commands on, for the owner's outcome. It
returns the owner's result, or raises `RemoteCommandError` with the owner's
message, or with "no live engine answered" once the deadline passes.
``progress`` (optional) hears each command become ``pending`` and
``accepted``, so the operator sees it move before it ends.

Reads that need no owner are answered from the store (a dead letter's full
record) or from what the attached console derived itself (metrics); breaker
snapshots live only in the owner, so they are a command too.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from engine.store import Command, CommandBook, CommandStatus
from engine.store.dlq_store import DeadLetterView
from engine.store.schema import DB_NAME

from .attached_engine import AttachedEngine

DEFAULT_TIMEOUT = 30.0
# Reads the views repeat every second: a short deadline, so a dead owner costs a view little.
READ_TIMEOUT = 3.0


class RemoteCommandError(RuntimeError):
    """The owner refused or failed a command, or no live engine answered in time."""


class RemoteCommands:
    """`EngineCommands` for an `AttachedEngine` (see the module docstring)."""

    def __init__(
        self,
        engine: AttachedEngine,
        *,
        actor: str,
        timeout: float = DEFAULT_TIMEOUT,
        poll: float = 0.05,
        progress: Callable[[Command], None] | None = None,
    ) -> None:
        self.engine = engine
        self.actor = actor
        self.timeout = timeout
        self.poll = poll
        self.progress = progress
        self._book = CommandBook(engine.state_dir)
        self._letters = DeadLetterView(engine.state_dir / DB_NAME)

    def _send(
        self,
        kind: str,
        args: dict[str, Any],
        *,
        actor: str | None = None,
        reason: str | None = None,
        timeout: float | None = None,
        forget: bool = False,
    ) -> Any:
        timeout = self.timeout if timeout is None else timeout
        owner = self.engine.live_owner()
        if owner is None:
            raise RemoteCommandError(f"{kind}: no live engine owns {self.engine.state_dir}")
        started = time.time()
        command = self._book.submit(kind, args, actor=actor or self.actor, reason=reason, now=started, timeout=timeout)
        seen = command.status
        self._tell(command)
        while True:
            current = self._book.get(command.id)
            if current is None:
                raise RemoteCommandError(f"{kind}: command {command.id} vanished from the store")
            if current.status != seen:
                seen = current.status
                self._tell(current)
            if current.status == CommandStatus.DONE:
                if forget:
                    self._book.forget(command.id)
                return current.result
            if current.status in (CommandStatus.FAILED, CommandStatus.EXPIRED):
                raise RemoteCommandError(current.error or f"{kind}: {current.status}")
            if time.time() >= started + timeout:
                if current.status == CommandStatus.PENDING:
                    raise RemoteCommandError(f"{kind}: no live engine answered within {timeout:g}s")
                raise RemoteCommandError(
                    f"{kind}: accepted by engine {current.owner} but not finished within {timeout:g}s"
                )
            time.sleep(self.poll)

    def _tell(self, command: Command) -> None:
        if self.progress is not None:
            self.progress(command)

    # -- what EngineCommands offers -------------------------------------------

    def start_run(self, workflow: str) -> Any:
        return self._send("workflow.run", {"workflow": workflow})["run_id"]

    def rerun_from(self, workflow: str, run_id: str, task_id: str) -> Any:
        return self._send("run.rerun_from", {"workflow": workflow, "run_id": run_id, "task_id": task_id})["run_id"]

    def cancel_run(self, run_id: str) -> Any:
        return self._send("run.cancel", {"run_id": run_id})["cancelled"]

    def fire(self, machine: str, instance_id: str, event: str) -> Any:
        return self._send("fsm.fire", {"machine": machine, "instance_id": instance_id, "event": event})["fired"]

    def reload(self) -> Any:
        self._send("workflow.reload", {})

    def dlq_retry(self, letter_id: str, *, actor: str | None = None, reason: str | None = None) -> Any:
        return self._send("dlq.retry", {"id": letter_id}, actor=actor, reason=reason)["status"]

    def dlq_replay(self, letter_id: str, *, actor: str | None = None, reason: str | None = None) -> Any:
        return self._send("dlq.replay", {"id": letter_id}, actor=actor, reason=reason)["status"]

    def dlq_discard(self, letter_id: str, reason: str, *, actor: str | None = None) -> Any:
        return self._send("dlq.discard", {"id": letter_id}, actor=actor, reason=reason)["status"]

    def dlq_edit_payload(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        return self._send("dlq.edit_payload", {"id": letter_id, "payload": payload}, actor=actor)["status"]

    def dlq_edit_and_retry(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        self.dlq_edit_payload(letter_id, payload, actor=actor)
        return self.dlq_retry(letter_id, actor=actor, reason="after editing the payload")

    def dlq_edit_and_replay(self, letter_id: str, payload: Any, *, actor: str | None = None) -> Any:
        self.dlq_edit_payload(letter_id, payload, actor=actor)
        return self.dlq_replay(letter_id, actor=actor, reason="after editing the payload")

    def dlq_retry_many(self, letter_ids: list[str], *, actor: str | None = None) -> dict[str, list[str]]:
        return self._send("dlq.retry_many", {"ids": list(letter_ids)}, actor=actor, reason="bulk retry")

    def breaker_force_open(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._send("breaker.force_open", {"name": name}, actor=actor, reason=reason)["name"]

    def breaker_force_closed(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._send("breaker.force_closed", {"name": name}, actor=actor, reason=reason)["name"]

    def breaker_reset(self, name: str, reason: str | None = None, *, actor: str | None = None) -> Any:
        return self._send("breaker.reset", {"name": name}, actor=actor, reason=reason)["name"]

    def saga_retry_compensation(self, saga: str, run_id: str, *, actor: str | None = None) -> Any:
        return self._send("saga.retry_compensation", {"saga": saga, "run_id": run_id}, actor=actor)

    def saga_mark_compensated(self, saga: str, run_id: str, reason: str, *, actor: str | None = None) -> Any:
        return self._send("saga.mark_compensated", {"saga": saga, "run_id": run_id}, actor=actor, reason=reason)

    # -- reads ------------------------------------------------------------------

    def dlq_record(self, letter_id: str) -> dict[str, Any]:
        return self._letters.get(letter_id).to_dict()

    def breaker_snapshots(self) -> list[dict[str, Any]]:
        return self._send("breaker.snapshots", {}, timeout=READ_TIMEOUT, forget=True)

    def metrics_families(self) -> list[dict[str, Any]]:
        return self.engine.metrics.collect()
