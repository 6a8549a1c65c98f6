"""The header's state: the engine's vital signs.

Workflows loaded and runs active come from `WorkflowsState`; this reducer
counts what only the event stream tells: events per second (per second of
the injected clock), dead letters waiting, and breakers open; and whether
the durable store can write (``store_failure``: its error from
``store.failed``, None again after ``store.recovered``).
"""

from __future__ import annotations

from typing import Sequence

from engine import Clock, Event

# Breaker event suffixes (``breaker.<suffix>``) and the state each means.
_BREAKER_STATES = {
    "opened": "open",
    "forced_open": "open",
    "closed": "closed",
    "forced_closed": "closed",
    "half_opened": "half_open",
    "half_open": "half_open",
    "reset": "closed",
    "disabled": "disabled",
}
# Dead-letter statuses that still need an operator (engine.resilience.dlq.letter.STATUSES).
_WAITING = {"dead", "retrying"}


class VitalsState:
    """Per-second event rate, dead letters waiting, breakers open."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.total = 0
        self.letters: dict[str, str] = {}  # waiting letters only: id -> status
        self.breaker_states: dict[str, str] = {}
        self.store_failure: str | None = None
        self._second = int(clock.time())
        self._current = 0
        self._last_rate = 0

    def apply(self, events: Sequence[Event]) -> bool:
        changed = self.tick()
        if not events:
            return changed
        self.total += len(events)
        self._current += len(events)
        for event in events:
            kind = event.type
            if kind.startswith("breaker."):
                changed |= self._on_breaker(event)
            elif kind.startswith("dlq."):
                changed |= self._on_dead_letter(event)
            elif kind == "store.failed":
                self.store_failure = str(event.data.get("error") or "unknown error")
            elif kind == "store.recovered":
                self.store_failure = None
        return True

    def tick(self) -> bool:
        """Roll the per-second counter over; True when the rate shown changed."""
        second = int(self.clock.time())
        if second == self._second:
            return False
        previous = self._last_rate
        self._last_rate = self._current if second == self._second + 1 else 0
        self._current = 0
        self._second = second
        return self._last_rate != previous

    @property
    def events_per_second(self) -> int:
        """Events in the last complete second."""
        return self._last_rate

    @property
    def dead_letters(self) -> int:
        """Dead letters waiting (dead, or being retried)."""
        return len(self.letters)

    @property
    def breakers_open(self) -> int:
        return sum(1 for state in self.breaker_states.values() if state == "open")

    def _on_breaker(self, event: Event) -> bool:
        data = event.data
        name = data.get("name") or data.get("breaker")
        if name is None:
            return False
        state = data.get("state") or data.get("to") or _BREAKER_STATES.get(event.type[8:])
        if state is None:
            return False
        self.breaker_states[str(name)] = str(state).lower()
        return True

    def _on_dead_letter(self, event: Event) -> bool:
        # Every dlq.* event carries the letter's id and its status after the change.
        data = event.data
        letter_id = data.get("id")
        if letter_id is None:
            return False
        if event.type == "dlq.evicted":
            return self.letters.pop(str(letter_id), None) is not None
        status = data.get("status")
        if not isinstance(status, str):
            return False
        if status in _WAITING:
            self.letters[str(letter_id)] = status
            return True
        return self.letters.pop(str(letter_id), None) is not None
