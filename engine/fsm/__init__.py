"""State machines: definitions, running instances and the instance registry.

Holds the definition and its checks (`model`, `views`), running instances
(`instances`, `history`), its errors (`errors`), the registry that
routes events to instances (`registry`) and `StateMachine` (`machine`).
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.observe`,
`engine.resilience`.
"""

from .machine import (
    FSMDefinitionError,
    FSMError,
    FSMValidationError,
    InstanceNotFound,
    InstanceRegistry,
    MachineDefinition,
    MachineInstance,
    ReentrantTriggerError,
    StateMachine,
    Transition,
    TransitionNotFound,
    TransitionRecord,
)

__all__ = [
    "FSMDefinitionError",
    "FSMError",
    "FSMValidationError",
    "InstanceNotFound",
    "InstanceRegistry",
    "MachineDefinition",
    "MachineInstance",
    "ReentrantTriggerError",
    "StateMachine",
    "Transition",
    "TransitionNotFound",
    "TransitionRecord",
]
