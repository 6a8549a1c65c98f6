"""The instance registry: routes events to state-machine instances by id.

A registry holds machine definitions by name and finds their instances, so
an operator (or an event handler) can say "fire ``approved`` on deployment
``d-42``" without holding the instance. Definitions it was not given are
looked up in the runtime's definition table (what the loader registers).

When a definition is registered again under the same name (a reloaded
workflow file), instances already running keep the definition they were
created with and stay reachable; new instances use the new definition.

Thread safety: ``_lock`` guards ``_definitions``. Instances are kept by their
definitions (whose own lock guards ``instances``), and each instance
serialises its transitions with its own lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .model import FSMDefinitionError, MachineDefinition
from .errors import InstanceNotFound

if TYPE_CHECKING:
    from .instances import MachineInstance
    from ..runtime import Runtime


def _as_definition(value: Any) -> MachineDefinition | None:
    if isinstance(value, MachineDefinition):
        return value
    definition = getattr(value, "definition", None)
    return definition if isinstance(definition, MachineDefinition) else None


class InstanceRegistry:
    """State-machine definitions by name, and event routing to their instances."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        self.runtime = runtime
        self._lock = threading.Lock()
        self._definitions: dict[str, MachineDefinition] = {}

    def register(self, definition: Any) -> MachineDefinition:
        """Add a `MachineDefinition` (or a `StateMachine`'s) under its name."""
        found = _as_definition(definition)
        if found is None:
            raise FSMDefinitionError(None, f"not a state-machine definition: {definition!r}")
        if not found.name:
            raise FSMDefinitionError(None, "a registered state machine needs a name")
        with self._lock:
            previous = self._definitions.get(found.name)
            self._definitions[found.name] = found
        if previous is not None and previous is not found:
            with previous._lock:
                running = list(previous.instances.items())
            with found._lock:
                for instance_id, instance in running:
                    found.instances.setdefault(instance_id, instance)
        return found

    def definition(self, name: str) -> MachineDefinition:
        """The current definition called ``name``."""
        with self._lock:
            found = self._definitions.get(name)
        if found is None:
            found = _as_definition(self.runtime.definitions.get(name))
        if found is None:
            raise FSMDefinitionError(name, "no such state-machine definition is registered")
        return found

    def names(self) -> list[str]:
        """The names of the definitions registered here, sorted."""
        with self._lock:
            return sorted(self._definitions)

    def create_instance(
        self, workflow: str, instance_id: str, context: dict[str, Any] | None = None
    ) -> MachineInstance:
        """Start instance ``instance_id`` of the definition ``workflow``."""
        return self.definition(workflow).create_instance(instance_id, context)

    def get(self, instance_id: str, workflow: str | None = None) -> MachineInstance:
        """The instance ``instance_id`` (of ``workflow``, needed when ids repeat)."""
        if workflow is not None:
            found = self.definition(workflow).instances.get(instance_id)
            if found is None:
                raise InstanceNotFound(instance_id, workflow, "no such instance")
            return found
        with self._lock:
            definitions = list(self._definitions.values())
        matches = [d.instances[instance_id] for d in definitions if instance_id in d.instances]
        if not matches:
            raise InstanceNotFound(instance_id, None, "no such instance")
        if len(matches) > 1:
            raise InstanceNotFound(
                instance_id, None,
                f"the id is used by {len(matches)} machines; name the workflow",
            )
        return matches[0]

    def fire(self, instance_id: str, event: str, *, workflow: str | None = None) -> bool:
        """Trigger ``event`` on instance ``instance_id``; see `MachineInstance.trigger`."""
        return self.get(instance_id, workflow).trigger(event)

    def instances(self, workflow: str | None = None) -> list[MachineInstance]:
        """Every instance (of ``workflow``), by definition name then id."""
        if workflow is not None:
            definitions = [self.definition(workflow)]
        else:
            with self._lock:
                definitions = [self._definitions[n] for n in sorted(self._definitions)]
        return [d.instances[i] for d in definitions for i in sorted(d.instances)]

    def remove(self, instance_id: str, workflow: str) -> None:
        """Forget a finished instance."""
        definition = self.definition(workflow)
        with definition._lock:
            if definition.instances.pop(instance_id, None) is None:
                raise InstanceNotFound(instance_id, workflow, "no such instance")

    def restore(
        self,
        definition_name: str,
        instance_id: str,
        state: str,
        context: Mapping[str, Any] | None,
        history: Iterable[Any],
    ) -> MachineInstance:
        """Bring an instance back in ``state`` after a restart.

        Creates the instance if it does not exist (without announcing it as
        new) and restores its state, context and history; publishes
        ``fsm.instance_restored``.
        """
        from .instances import MachineInstance

        definition = self.definition(definition_name)
        if state not in definition.states:
            raise FSMDefinitionError(
                definition_name, f"cannot restore {instance_id!r} to unknown state {state!r}"
            )
        with definition._lock:
            instance = definition.instances.get(instance_id)
            if instance is None:
                instance = MachineInstance(definition, instance_id, None)
                definition.instances[instance_id] = instance
        instance.restore(state, context, history)
        return instance
