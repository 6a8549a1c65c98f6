"""The errors `MachineInstance.trigger` raises besides the callbacks' own.

`TransitionNotFound` (no transition for the event from the current state)
and `ReentrantTriggerError` (a callback triggered its own instance). They
live apart from `engine.fsm.instances` so that `engine.fsm.queries` can
raise them too.
"""

from __future__ import annotations

from .model import FSMError


class TransitionNotFound(FSMError, ValueError):
    """No transition exists for an event from the current state."""

    def __init__(self, machine: str | None, instance: str, state: str, event: str) -> None:
        super().__init__(f"No transition for event '{event}' from state '{state}'")
        self.machine = machine
        self.instance = instance
        self.state = state
        self.event = event


class ReentrantTriggerError(FSMError, RuntimeError):
    """A guard, hook or action triggered the instance it is running in."""
