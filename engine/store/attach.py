"""Plugging the durable dead-letter storage into a runtime's queue.

The runtime's queue is rebuilt over `SQLiteDeadLetterStore`, so letters
already in the database (from before a restart) are there at once. If the
runtime had built its queue before the store was attached, its letters are
copied into the database and its retriers carried over, so nothing put in
memory before the attach is lost; its retriers and replayers are carried over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..resilience.dlq.queue import DEFAULT_CAPACITY, DeadLetterQueue

if TYPE_CHECKING:
    from .core import Store


def plug_dead_letters(store: Store, runtime: Any) -> DeadLetterQueue:
    """Install a dead-letter queue kept in ``store`` as ``runtime.dlq``; returns it."""
    old = runtime.installed("dlq")
    if isinstance(old, DeadLetterQueue) and isinstance(old.store, type(store.dead_letters)):
        return old
    storage = store.dead_letters
    if old is not None:
        for letter in old.list():
            if storage.get(letter.id) is None:
                storage.put(letter)
    capacity = store.retention.dlq_cap or getattr(old, "capacity", DEFAULT_CAPACITY)
    queue = DeadLetterQueue(runtime, store=storage, capacity=capacity)
    if old is not None:
        for source, retrier in old.retriers().items():
            queue.register_retrier(source, retrier)
        for source, replayer in old.replayers().items():
            queue.register_replayer(source, replayer)
    runtime.install("dlq", queue)
    return queue
