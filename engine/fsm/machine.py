"""State machines: `StateMachine`, checked, observable and durable.

`StateMachine` keeps the basic API (``add_transition``, ``trigger``,
``can_trigger``, ``get_available_events``, ``reset``, ``current_state``,
``history``). It is one running instance of its own `MachineDefinition`
(``machine.definition``); a definition can run many more instances, one per
order or deployment, each with its own state, context and history
(``definition.create_instance(instance_id)``). `InstanceRegistry` routes
events to instances by id.

The parts: `engine.fsm.model` (definitions and lookup rules),
`engine.fsm.views` (validation, spec, Mermaid), `engine.fsm.instances`
(running instances and their events), `engine.fsm.registry` (routing by
instance id). This module is their public face.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Iterable

from .instances import (
    MachineInstance,
    ReentrantTriggerError,
    TransitionNotFound,
    TransitionRecord,
)
from .model import (
    WILDCARD,
    FSMDefinitionError,
    FSMError,
    FSMValidationError,
    MachineDefinition,
    Problem,
    Transition,
)
from .registry import InstanceNotFound, InstanceRegistry

if TYPE_CHECKING:
    from ..clock import Clock
    from ..runtime import Runtime

__all__ = [
    "WILDCARD",
    "FSMDefinitionError",
    "FSMError",
    "FSMValidationError",
    "InstanceNotFound",
    "InstanceRegistry",
    "MachineDefinition",
    "MachineInstance",
    "Problem",
    "ReentrantTriggerError",
    "StateMachine",
    "Transition",
    "TransitionNotFound",
    "TransitionRecord",
]


_machine_ids = itertools.count(1)


class StateMachine(MachineInstance):
    """The basic API's state machine: one definition and one instance in one object.

    ``add_transition``, ``on_enter``, ``on_exit``, ``mark_final``,
    ``validate``, ``describe`` and ``to_mermaid`` act on ``definition``; more
    instances of the same machine come from
    ``machine.definition.create_instance(instance_id)``.
    """

    def __init__(
        self,
        initial_state: str,
        context: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        runtime: Runtime | None = None,
        final_states: Iterable[str] = (),
        clock: Clock | None = None,
        instance_id: str | None = None,
        record_context: bool = True,
    ) -> None:
        definition = MachineDefinition(
            initial_state, name=name, final_states=final_states, runtime=runtime
        )
        instance_id = instance_id or f"{name or 'machine'}-{next(_machine_ids)}"
        super().__init__(
            definition, instance_id, context, clock=clock, record_context=record_context
        )
        definition.instances[instance_id] = self
        self._announce()

    @property
    def transitions(self) -> list[Transition]:
        """Every transition as added (the basic API's list)."""
        return self.definition.transitions

    def add_transition(
        self,
        from_state: str,
        to_state: str,
        event: str,
        guard: Any = None,
        action: Any = None,
    ) -> Transition:
        """Add a transition (see `MachineDefinition.add_transition`)."""
        return self.definition.add_transition(from_state, to_state, event, guard, action)

    def on_enter(self, state: str, fn: Any = None) -> Any:
        """Run ``fn(context)`` when a transition enters ``state`` (or decorate)."""
        return self.definition.on_enter(state, fn)

    def on_exit(self, state: str, fn: Any = None) -> Any:
        """Run ``fn(context)`` when a transition leaves ``state`` (or decorate)."""
        return self.definition.on_exit(state, fn)

    def mark_final(self, *states: str) -> None:
        """Make ``states`` final."""
        self.definition.mark_final(*states)

    def validate(self, raise_errors: bool = True) -> list[Problem]:
        """Unreachable and dead-end states (see `MachineDefinition.validate`)."""
        return self.definition.validate(raise_errors)

    def describe(self) -> dict[str, Any]:
        """The definition as a plain dict (see `MachineDefinition.describe`)."""
        return self.definition.describe()

    def to_mermaid(self) -> str:
        """The definition as a Mermaid state diagram."""
        return self.definition.to_mermaid()
