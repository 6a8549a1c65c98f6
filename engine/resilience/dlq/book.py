"""The dead-letter queue's ledger: the letters in their store, and the capacity rule.

`LetterBook` keeps an id -> status index beside the store, oldest first, so
choosing a letter to evict never reads the store. Over capacity it evicts
the oldest settled letter (resolved or discarded), else the oldest dead one,
and never one being retried (the book may then stay over capacity until the
retry ends rather than lose it).

Not locked: the queue calls it only while holding its own lock.
"""

from __future__ import annotations

from .letter import DeadLetter, DeadLetterAction, DeadLetterStore


class LetterBook:
    """Letters in a `DeadLetterStore`, with the index eviction decides on."""

    def __init__(self, store: DeadLetterStore, now: float) -> None:
        self.store = store
        self._index: dict[str, str] = {}
        for letter in store.all():
            if letter.status == "retrying":
                # A retry cannot outlive the process that ran it: a letter a
                # crashed process left "retrying" would otherwise be busy forever.
                letter = letter.changed(
                    DeadLetterAction("recovered", "engine", "its retry was interrupted by a restart", now),
                    status="dead",
                )
                store.put(letter)
            self._index[letter.id] = letter.status

    def get(self, letter_id: str) -> DeadLetter | None:
        return self.store.get(letter_id)

    def all(self) -> list[DeadLetter]:
        return self.store.all()

    def put(self, letter: DeadLetter) -> None:
        self.store.put(letter)
        self._index[letter.id] = letter.status

    def __len__(self) -> int:
        return len(self._index)

    def evict_over(self, capacity: int) -> list[DeadLetter]:
        """Drop letters until at most ``capacity`` remain; returns the dropped ones."""
        evicted: list[DeadLetter] = []
        while len(self._index) > capacity:
            victim_id = self._victim()
            if victim_id is None:
                break
            victim = self.store.get(victim_id)
            self.store.delete(victim_id)
            del self._index[victim_id]
            if victim is not None:
                evicted.append(victim)
        return evicted

    def _victim(self) -> str | None:
        oldest_dead: str | None = None
        for letter_id, status in self._index.items():
            if status in ("resolved", "discarded"):
                return letter_id
            if status == "dead" and oldest_dead is None:
                oldest_dead = letter_id
        return oldest_dead
