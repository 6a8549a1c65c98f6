"""Commands that change state go to the engine that owns the state directory.

A CLI command that would change the state of a directory another engine owns
does not act itself: `send` writes it into the directory's commands table
(`engine.store.commands`) and waits for the owner's outcome. With no live
owner the command acts locally, holding the owner lock meanwhile
(`local_ownership`), so no engine starts on the directory behind its back.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Iterator

from engine.store import Command, CommandBook, OwnerInfo, OwnerLock, read_owner
from engine.store.owner import flowconsole_version

DEFAULT_TIMEOUT = 30.0


class CommandTimedOut(Exception):
    """The owner did not finish a command in time; ``command`` is how it was left."""

    def __init__(self, command: Command, owner: OwnerInfo, timeout: float) -> None:
        if command.status == "pending":
            message = (
                f"no live engine answered within {timeout:g}s: command {command.id} ({command.kind}) "
                f"was not claimed by engine {owner.label()}; it expires unanswered"
            )
        else:
            message = (
                f"command {command.id} ({command.kind}) was accepted by engine {command.owner or owner.label()} "
                f"but did not finish within {timeout:g}s; it goes on there"
            )
        super().__init__(message)
        self.command = command


def live_owner(state_dir: Path) -> OwnerInfo | None:
    """The engine that owns ``state_dir`` now, or None."""
    return read_owner(state_dir)


def send(
    state_dir: Path,
    owner: OwnerInfo,
    kind: str,
    args: dict[str, Any],
    *,
    actor: str,
    reason: str | None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Command:
    """Have the owner carry out ``kind``; returns the ended command or raises `CommandTimedOut`."""
    book = CommandBook(state_dir)
    started = time.time()
    command = book.submit(kind, args, actor=actor, reason=reason, now=started, timeout=timeout)
    ended = book.wait(command.id, until=started + timeout)
    if not ended.final:
        raise CommandTimedOut(ended, owner, timeout)
    return ended


@contextlib.contextmanager
def local_ownership(state_dir: Path) -> Iterator[OwnerLock]:
    """Own ``state_dir`` while a command acts on it locally (raises `StateDirBusyError`)."""
    lock = OwnerLock.acquire(state_dir, version=flowconsole_version())
    try:
        yield lock
    finally:
        lock.release()
