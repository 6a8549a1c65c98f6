"""Saga compensations in the dead-letter queue: finding the saga to retry them.

A compensation that still fails after its retries is parked in the runtime's
dead-letter queue (source ``"saga.compensation"``). Retrying that letter
later must run the compensation of the *current* definition of the saga and
settle the run it belongs to, even when the workflow file was reloaded since
and the orchestrator object that ran the saga is gone. Each runtime has one
`SagaBook` for that: it is the retrier registered for the source, it knows
the latest orchestrator of each saga name, and it keeps the runs stuck in
``COMPENSATION_FAILED`` until they are settled.

Thread safety: ``lock`` (re-entrant) guards ``_sagas``, ``stuck`` and
``settled``, and
serialises every action that settles a stuck run (an operator's retry or
mark, a dead-letter retry), so two of them never settle one run at once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from .model import SagaDefinitionError, SagaRun

if TYPE_CHECKING:
    from ..resilience.dlq.letter import DeadLetter
    from ..runtime import Runtime
    from .orchestrator import SagaOrchestrator

SOURCE = "saga.compensation"
KEEP_SETTLED = 1000


class SagaBook:
    """One runtime's sagas by name and its stuck runs; the DLQ retrier."""

    def __init__(self, runtime: Runtime, kind: type[SagaOrchestrator]) -> None:
        self._runtime = weakref.ref(runtime)
        self._kind = kind
        self.lock = threading.RLock()
        self._sagas: dict[str, weakref.ref[SagaOrchestrator]] = {}
        self.stuck: dict[tuple[str, str], SagaRun] = {}
        self.settled: OrderedDict[tuple[str, str], SagaRun] = OrderedDict()

    def adopt(self, saga: SagaOrchestrator) -> None:
        """Make ``saga`` the one its name resolves to (the newest wins)."""
        with self.lock:
            self._sagas[saga.name] = weakref.ref(saga)

    def orchestrator(self, name: str | None) -> SagaOrchestrator:
        """The current orchestrator of saga ``name``.

        The runtime's definition table (what the loader registered) wins over
        the newest orchestrator built in code.
        """
        runtime = self._runtime()
        if name is not None and runtime is not None:
            loaded = runtime.definitions.get(name)
            if isinstance(loaded, self._kind):
                return loaded
        with self.lock:
            ref = self._sagas.get(name) if name is not None else None
        saga = ref() if ref is not None else None
        if saga is None:
            raise SagaDefinitionError(
                str(name), "no saga of this name is loaded, so its compensation cannot run"
            )
        return saga

    def find(self, saga: str, run_id: str) -> SagaRun | None:
        """The run ``run_id`` of ``saga`` if it is stuck or was settled lately."""
        with self.lock:
            return self.stuck.get((saga, run_id)) or self.settled.get((saga, run_id))

    def park(self, run: SagaRun) -> None:
        """Keep ``run`` until its failed compensations are settled."""
        with self.lock:
            self.stuck[(run.saga, run.run_id)] = run

    def release(self, run: SagaRun) -> None:
        """Move a settled run to the recently settled ones.

        They are remembered (up to ``KEEP_SETTLED``) so that a dead letter of
        theirs retried late finds its compensation already done instead of
        running it twice.
        """
        key = (run.saga, run.run_id)
        with self.lock:
            if self.stuck.pop(key, None) is None:
                return
            self.settled[key] = run
            while len(self.settled) > KEEP_SETTLED:
                self.settled.popitem(last=False)

    def __call__(self, letter: DeadLetter) -> Any:
        """Retry a parked compensation once, from its letter (the DLQ retrier)."""
        payload = letter.payload if isinstance(letter.payload, dict) else {}
        saga = self.orchestrator(letter.workflow or payload.get("saga"))
        return saga._retry_letter(payload.get("step") or letter.unit, payload, letter.id)


_books: weakref.WeakKeyDictionary[Runtime, SagaBook] = weakref.WeakKeyDictionary()
_books_lock = threading.Lock()


def book_for(runtime: Runtime, kind: type[SagaOrchestrator]) -> SagaBook:
    """The runtime's `SagaBook` of ``kind`` sagas, registered as its DLQ retrier on first use."""
    with _books_lock:
        book = _books.get(runtime)
        if book is None:
            book = _books[runtime] = SagaBook(runtime, kind)
            runtime.dlq.register_retrier(SOURCE, book)
    return book
