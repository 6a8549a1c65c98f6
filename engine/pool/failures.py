"""Retrying a dead-lettered pool task: call its function again in this process.

`WorkerPool` handles a failed item itself (another attempt on a timer, or a
dead letter of source ``"pool"``). Retrying such a letter later calls the
task's function again: ``_functions`` remembers the function of every
dead-lettered pool task of this process by ``"module:qualname"``, and
`_register_retrier` makes `_retry_pool_letter` the ``"pool"`` retrier of a
runtime's dead-letter queue. ``_registered_lock`` makes checking for and
registering the retrier one step.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from ..errors import FlowError

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("engine.pool")
# Functions of dead-lettered pool tasks, by "module:qualname", so a letter's
# retry can call the function again in this process.
_functions: dict[str, Callable[..., Any]] = {}
_registered_lock = threading.Lock()


def _register_retrier(runtime: Runtime) -> None:
    """Let ``runtime``'s dead-letter queue retry pool letters (idempotent)."""
    with _registered_lock:
        dlq = runtime.dlq
        if not dlq.has_retrier("pool"):
            dlq.register_retrier("pool", _retry_pool_letter)


def _retry_pool_letter(letter: Any) -> Any:
    """Call a dead-lettered pool task's function again with its stored arguments."""
    func = _functions.get(letter.unit)
    if func is None:
        raise FlowError(f"dead letter {letter.id}: function {letter.unit} is not known in this process")
    payload = letter.payload or {}
    return func(*payload.get("args", ()), **payload.get("kwargs", {}))
