"""Asking a running state-machine instance what an event would do now.

`InstanceQueries` is the part of `engine.fsm.instances.MachineInstance` that
answers without changing anything: whether an event would fire
(``can_trigger``), which events would (``get_available_events``), which
guards refuse one (``blocked_by``) and why (``why_not``). Guards are
evaluated against the live context; every method holds the instance's
``_lock`` so the state cannot change between the lookup and the guards.
"""

from __future__ import annotations

from typing import Any

from .model import MachineDefinition
from .errors import TransitionNotFound


class InstanceQueries:
    """What-if questions on an instance (mixed into `MachineInstance`, which owns the state)."""

    # No instance dict: MachineInstance keeps its attributes in slots.
    __slots__ = ()

    # Provided by MachineInstance.
    definition: MachineDefinition
    instance_id: str
    context: dict[str, Any]
    _state: str
    _lock: Any

    def can_trigger(self, event: str) -> bool:
        """Whether ``event`` would change the state now (guards are evaluated)."""
        with self._lock:
            return any(
                t.guard is None or t.guard(self.context)
                for t in self.definition.candidates(self._state, event)
            )

    def get_available_events(self) -> list[str]:
        """The events that would change the state now, in definition order."""
        with self._lock:
            return [e for e in self.definition.events_from(self._state) if self.can_trigger(e)]

    def blocked_by(self, event: str) -> list[str]:
        """The names of the guards that refuse ``event`` now ([] if it can fire).

        Raises `TransitionNotFound` when ``event`` has no transition from the
        current state.
        """
        with self._lock:
            candidates = self.definition.candidates(self._state, event)
            if not candidates:
                raise TransitionNotFound(
                    self.definition.name, self.instance_id, self._state, event
                )
            refused = []
            for t in candidates:
                if t.guard is None or t.guard(self.context):
                    return []
                refused.append(t.guard_name)
            return refused

    def why_not(self, event: str) -> str | None:
        """Why ``event`` would not change the state now, or None if it would."""
        with self._lock:
            state = self._state
            if not self.definition.candidates(state, event):
                if state in self.definition.final_states:
                    return f"state {state!r} is final"
                return f"no transition for event {event!r} from state {state!r}"
            refused = self.blocked_by(event)
            if not refused:
                return None
            return f"guard {', '.join(map(str, refused))} refused {event!r} in state {state!r}"
