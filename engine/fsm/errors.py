"""The errors of `engine.fsm`; each names the thing at fault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FlowError

if TYPE_CHECKING:
    from .model import Problem


class FSMError(FlowError):
    """The root of the state-machine errors."""


class FSMDefinitionError(FSMError, ValueError):
    """A state machine was defined with input that cannot work."""

    def __init__(self, machine: str | None, message: str) -> None:
        super().__init__(f"state machine {machine or '(unnamed)'}: {message}")
        self.machine = machine


class FSMValidationError(FSMError, ValueError):
    """`MachineDefinition.validate` found problems; they are in ``problems``."""

    def __init__(self, machine: str | None, problems: list[Problem]) -> None:
        listed = "; ".join(p.message for p in problems)
        super().__init__(f"state machine {machine or '(unnamed)'} is invalid: {listed}")
        self.machine = machine
        self.problems = problems


class InstanceNotFound(FSMError, LookupError):
    """No instance (or more than one, across definitions) has the id asked for."""

    def __init__(self, instance_id: str, workflow: str | None, reason: str) -> None:
        where = f" of {workflow!r}" if workflow else ""
        super().__init__(f"state-machine instance {instance_id!r}{where}: {reason}")
        self.instance_id = instance_id
        self.workflow = workflow


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
