"""What a failed pool task means: another attempt on a timer, or a dead letter.

`PoolFailures` is the part of `engine.pool.worker_pool.WorkerPool` that handles an item
whose function raised. While the item's `RetryPolicy` allows it, the item
goes back on a queue after the policy's delay (a timer: no worker waits for
it; ``pool.task.retrying``). Otherwise the failure is published as
``pool.task.failed``, dead-lettered (source ``"pool"``) and kept on the
item's future.

Retrying such a letter later calls the task's function again: ``_functions``
remembers the function of every dead-lettered pool task of this process by
``"module:qualname"``, and `_register_retrier` makes `_retry_pool_letter` the
``"pool"`` retrier of a runtime's dead-letter queue.

Locks: the pool's ``_cond`` guards ``_retrying`` and ``_retry_timers``;
``_registered_lock`` makes checking for and registering the retrier one step.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import TYPE_CHECKING, Any, Callable

from ..errors import FlowError
from ..executors.threads import ExecutorShutdownError
from ..error_text import error_message

if TYPE_CHECKING:
    from .worker_pool import _Item
    from ..runtime import Runtime

log = logging.getLogger("engine.pool")
# Functions of dead-lettered pool tasks, by "module:qualname", so a letter's
# retry can call the function again in this process.
_functions: dict[str, Callable[..., Any]] = {}
_registered_lock = threading.Lock()


class PoolFailures:
    """Retry or dead-letter decisions of a worker pool (mixed into `WorkerPool`, which owns the state)."""

    # Provided by WorkerPool.
    name: str
    runtime: Runtime
    _cond: threading.Condition
    _retrying: int
    _retry_timers: dict[_Item, Any]
    _timers: Any

    def _failed_attempt(self, item: _Item, exc: Exception, worker: int) -> None:
        if item.first_failure is None:
            item.first_failure = self.runtime.clock.time()
        policy = item.retry
        data = {"unit": item.unit, "attempt": item.attempt, "worker": worker,
                "error_type": type(exc).__name__, "error": error_message(exc)}
        if policy is not None and policy.should_retry(exc, item.attempt):
            delay = policy.delay(item.attempt)
            with self._cond:
                self._retrying += 1
            self._emit("pool.task.retrying", {**data, "delay": delay})
            item.attempt += 1
            try:
                with self._cond:
                    self._retry_timers[item] = self._timers.call_later(delay, lambda: self._requeue(item))
                return
            except ExecutorShutdownError:
                with self._cond:
                    self._retrying -= 1
        self._emit("pool.task.failed", {**data, "traceback": "".join(traceback.format_exception(exc))})
        _functions[item.unit] = item.func
        try:
            self.runtime.dlq.add(
                source="pool", unit=item.unit, error=exc,
                payload={"args": list(item.args), "kwargs": dict(item.kwargs)},
                workflow=self.name, attempts=item.attempt, first_failure=item.first_failure,
            )
        except Exception:  # noqa: BLE001 - a broken queue must not lose the failure on the future
            log.exception("pool %r: could not dead-letter %s", self.name, item.unit)
        item.future.set_exception(exc)
        self._finished(item, "failed")

    def _requeue(self, item: _Item) -> None:
        with self._cond:
            if self._retry_timers.pop(item, None) is None:
                return  # cancelled by shutdown(cancel_pending=True)
            self._retrying -= 1
            self._enqueue(item, item.priority, None)


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
