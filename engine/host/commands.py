"""The owner's side of commands: claim what others asked for, do it, record how it went.

`CommandServer` is a thread of the engine that owns a state directory. Every
``poll`` seconds it claims the pending commands (`engine.store.commands`),
carries each out through the engine's public API (`OPERATIONS`: one function
per command kind, taking the engine, the arguments, the actor and the reason)
and records the outcome: done with the function's JSON result, or failed with
the error's message. One bad command (unknown kind, missing or wrong
arguments, an error from the engine) fails with a message; the thread keeps
serving.

Claiming runs on the server's thread; each claimed command is carried out on
a small pool of its own (``workers``), so a cancel or a breaker reset never
waits behind a slow dead-letter retry. ``_stop`` (a `threading.Event`) is the
only state shared with the engine's thread; the book needs no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..error_text import error_line
from ..errors import FlowError
from ..store.commands import Command, CommandBook

log = logging.getLogger("engine.commands")

# Ended commands are history for an hour (`flowconsole status`, an operator's
# second look), then pruned, checked once a minute.
KEEP_ENDED = 3600.0
PRUNE_EVERY = 60.0
# A claim refuses an overdue command by itself; expiring only records that it ended.
EXPIRE_EVERY = 1.0

Operation = Callable[[Any, dict[str, Any], str, "str | None"], Any]


class CommandArgumentError(ValueError):
    """A command lacks an argument or has one of the wrong type."""


def _arg(args: dict[str, Any], name: str, kind: type = str) -> Any:
    if name not in args:
        raise CommandArgumentError(f"missing argument {name!r}")
    value = args[name]
    if not isinstance(value, kind):
        raise CommandArgumentError(f"argument {name!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _letter(letter: Any) -> dict[str, Any]:
    return {"id": letter.id, "status": str(letter.status), "error_type": letter.error_type, "error": letter.error}


def _run(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    inputs = args.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise CommandArgumentError("argument 'inputs' must be an object")
    return {"run_id": engine.start_run(_arg(args, "workflow"), inputs=inputs)}


def _rerun_from(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    run_id = engine.rerun_from(_arg(args, "workflow"), _arg(args, "run_id"), _arg(args, "task_id"))
    return {"run_id": run_id}


def _cancel(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    return {"cancelled": bool(engine.cancel_run(_arg(args, "run_id")))}


def _reload(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    engine.reload()
    return {"workflows": engine.workflow_names()}


def _fire(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    fired = engine.fire(_arg(args, "machine"), _arg(args, "instance_id"), _arg(args, "event"))
    return {"fired": bool(fired)}


def _dlq_retry(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    return _letter(engine.runtime.dlq.retry(_arg(args, "id"), actor=actor, reason=reason))


def _dlq_retry_matching(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    filters = _arg(args, "filters", dict)
    expect = args.get("expect")
    outcome = engine.runtime.dlq.retry_matching(actor=actor, reason=reason, expect=expect, **filters)
    return {
        "matched": outcome.matched,
        "succeeded": list(outcome.succeeded),
        "failed": list(outcome.failed),
        "skipped": list(outcome.skipped),
    }


def _dlq_replay(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    return _letter(engine.runtime.dlq.replay(_arg(args, "id"), actor=actor, reason=reason))


def _dlq_discard(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    if not reason:
        raise CommandArgumentError("discarding a dead letter needs a reason")
    return _letter(engine.runtime.dlq.discard(_arg(args, "id"), reason, actor=actor))


def _dlq_edit_payload(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    if "payload" not in args:
        raise CommandArgumentError("missing argument 'payload'")
    return _letter(engine.runtime.dlq.edit_payload(_arg(args, "id"), args["payload"], actor=actor, reason=reason))


def _breaker(action: str) -> Operation:
    def operate(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
        breakers = engine.runtime.breakers
        name = _arg(args, "name")
        getattr(breakers, action)(name, actor=actor, reason=reason)
        return {"name": name}

    return operate


def _breaker_snapshots(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    return engine.runtime.breakers.snapshots()


def _dlq_retry_many(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    ids = _arg(args, "ids", list)
    outcome: dict[str, list[str]] = {"resolved": [], "dead": [], "refused": []}
    for letter_id in ids:
        try:
            letter = engine.runtime.dlq.retry(str(letter_id), actor=actor, reason=reason or "bulk retry")
        except FlowError:
            outcome["refused"].append(str(letter_id))
            continue
        outcome["resolved" if letter.status == "resolved" else "dead"].append(letter.id)
    return outcome


def _saga(engine: Any, name: str) -> Any:
    saga = engine.runtime.definitions.get(name)
    if saga is None or not hasattr(saga, "retry_compensations"):
        raise LookupError(f"no saga named {name!r} is loaded")
    return saga


def _saga_retry_compensation(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    return _saga(engine, _arg(args, "saga")).retry_compensations(_arg(args, "run_id"), actor=actor)


def _saga_mark_compensated(engine: Any, args: dict[str, Any], actor: str, reason: str | None) -> Any:
    if not reason:
        raise CommandArgumentError("marking a saga compensated needs a reason")
    return _saga(engine, _arg(args, "saga")).mark_compensated(_arg(args, "run_id"), reason, actor=actor)


OPERATIONS: dict[str, Operation] = {
    "workflow.run": _run,
    "workflow.reload": _reload,
    "run.rerun_from": _rerun_from,
    "run.cancel": _cancel,
    "fsm.fire": _fire,
    "dlq.retry": _dlq_retry,
    "dlq.retry_matching": _dlq_retry_matching,
    "dlq.replay": _dlq_replay,
    "dlq.discard": _dlq_discard,
    "dlq.edit_payload": _dlq_edit_payload,
    "breaker.force_open": _breaker("force_open"),
    "breaker.force_closed": _breaker("force_closed"),
    "breaker.reset": _breaker("reset"),
    "breaker.snapshots": _breaker_snapshots,
    "dlq.retry_many": _dlq_retry_many,
    "saga.retry_compensation": _saga_retry_compensation,
    "saga.mark_compensated": _saga_mark_compensated,
}


class CommandServer:
    """Carries out the commands written into one state directory (see the module docstring)."""

    def __init__(
        self,
        engine: Any,
        book: CommandBook,
        owner: str,
        *,
        poll: float = 0.1,
        workers: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._book = book
        self._owner = owner
        self._poll = poll
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0
        self._next_expire = 0.0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowconsole-command")

    def start(self) -> None:
        """Settle what a dead owner left, then serve on a thread of its own."""
        failed, expired = self._book.settle_after_restart(self._clock())
        if failed or expired:
            log.warning(
                "commands left by the previous owner: %d failed (outcome unknown), %d expired", failed, expired
            )
        self._thread = threading.Thread(target=self._serve, name="flowconsole-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Claim nothing more; wait for the commands being carried out to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)

    def serve_once(self) -> int:
        """Claim what is pending now and hand it to the pool; returns how many were claimed."""
        now = self._clock()
        # Housekeeping once a second, not at every poll: each is a write to the owner's database.
        if now >= self._next_expire:
            self._next_expire = now + EXPIRE_EVERY
            self._book.expire(now)
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY
            self._book.prune(now - KEEP_ENDED)
        claimed = self._book.claim(self._owner, now)
        for command in claimed:
            if not isinstance(command, str):
                self._pool.submit(self._carry_out, command)
        return len(claimed)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                self.serve_once()
            except Exception:  # noqa: BLE001 - one bad poll must not stop the server
                log.exception("serving commands failed; trying again")
            self._stop.wait(self._poll)

    def _carry_out(self, command: Command) -> None:
        operation = OPERATIONS.get(command.kind)
        try:
            if operation is None:
                raise CommandArgumentError(
                    f"unknown command kind {command.kind!r} (known: {', '.join(sorted(OPERATIONS))})"
                )
            result = operation(self._engine, command.args, command.actor, command.reason)
        except Exception as exc:  # noqa: BLE001 - every failure is the command's outcome
            log.info("command %s (%s) failed: %s", command.id, command.kind, error_line(exc))
            self._record(command, error=error_line(exc))
            return
        self._record(command, result=result)

    def _record(self, command: Command, **outcome: Any) -> None:
        try:
            self._book.finish(command.id, now=self._clock(), **outcome)
        except Exception:  # noqa: BLE001 - the next owner marks it failed (outcome unknown)
            log.exception("could not record the outcome of command %s (%s)", command.id, command.kind)
