"""State-machine definitions: states, transitions, hooks, and their checks.

A `MachineDefinition` is the shape of a state machine (what `StateMachine`
adds transitions to): its states, its transitions, per-state enter/exit
hooks and final states. Running machines are *instances* of a definition
(`engine.fsm.instances.MachineInstance`), each with its own state, context and history.

Lookup rules, in one place:

* Transitions are found in O(1) by ``(state, event)``. The candidates for a
  pair are the explicit transitions from that state for that event, in the
  order they were added, followed by the wildcard (``"*"``) transitions for
  that event. The first candidate whose guard passes fires, so an explicit
  transition wins over a wildcard one.
* A wildcard transition applies to every state that is not final, including
  states that only appear in transitions added after it.
* A final state has no way out: explicit transitions from it are refused and
  wildcards do not apply to it.

Thread safety: ``_lock`` guards every change to the tables (``transitions``,
``_explicit``, ``_wildcard``, ``_states``, hooks, final states and
``instances``). Instances read the tables without it: a change swaps in a
fresh resolution cache (``_resolved``) instead of editing the one readers
use, and single dict reads are atomic under the GIL.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

from .errors import FSMDefinitionError, FSMValidationError
from .errors import FSMError  # noqa: F401 - moved to errors.py; importable here too

if TYPE_CHECKING:
    from .instances import MachineInstance
    from ..runtime import Runtime

Guard = Callable[[dict[str, Any]], Any]
Action = Callable[[dict[str, Any]], Any]
Hook = Callable[[dict[str, Any]], Any]

WILDCARD = "*"


class Route(NamedTuple):
    """A transition resolved for one concrete source state: what to call, in order."""

    transition: Transition
    guard: Guard | None
    guard_name: str | None
    target: str
    callbacks: tuple[Callable[[dict[str, Any]], Any], ...]
    stages: tuple[str, ...]


class Problem(NamedTuple):
    """One finding of `MachineDefinition.validate`: ``kind`` is
    ``"unreachable"`` or ``"dead_end"``."""

    kind: str
    state: str
    message: str


@dataclass(frozen=True, slots=True)
class Transition:
    """One transition as it was added (``from_state`` may be ``"*"``)."""

    from_state: str
    to_state: str
    event: str
    guard: Guard | None = None
    action: Action | None = None

    @property
    def guard_name(self) -> str | None:
        """The guard's ``__name__`` (what "why didn't it move?" reports)."""
        return callable_name(self.guard)


def callable_name(fn: Any) -> str | None:
    """A readable name for a guard, action or hook (None for None)."""
    if fn is None:
        return None
    return getattr(fn, "__name__", None) or type(fn).__name__


def _check_name(machine: str | None, what: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise FSMDefinitionError(machine, f"{what} must be a non-empty string, got {value!r}")


class MachineDefinition:
    """The states and transitions of a state machine, shared by its instances.

    ``create_instance(instance_id, context=None)`` starts a new running
    instance, kept in ``instances`` by id. Instances that reached a final
    state are forgotten oldest first beyond the newest ``keep_finished``
    (their history stays in the event log), so a long-running engine that
    starts an instance per order does not grow without bound. ``name`` is the workflow name
    every event of the instances carries; ``runtime`` (default: the current
    runtime at construction) is where those events go.
    """

    def __init__(
        self,
        initial_state: str,
        *,
        name: str | None = None,
        final_states: Iterable[str] = (),
        runtime: Runtime | None = None,
        keep_finished: int = 1000,
    ) -> None:
        _check_name(name, "initial state", initial_state)
        if not isinstance(keep_finished, int) or keep_finished < 0:
            raise FSMDefinitionError(name, f"keep_finished must be an integer >= 0, got {keep_finished!r}")
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        self.name = name
        self.initial_state = initial_state
        self.runtime = runtime
        self.transitions: list[Transition] = []
        self.instances: dict[str, MachineInstance] = {}
        self.keep_finished = keep_finished
        self._finished: deque[str] = deque()
        self._lock = threading.Lock()
        self._states: dict[str, None] = {initial_state: None}
        self._final: frozenset[str] = frozenset()
        self._explicit: dict[tuple[str, str], tuple[Transition, ...]] = {}
        self._wildcard: dict[str, tuple[Transition, ...]] = {}
        self._resolved: dict[tuple[str, str], tuple[Route, ...]] = {}
        self._on_enter: dict[str, tuple[Hook, ...]] = {}
        self._on_exit: dict[str, tuple[Hook, ...]] = {}
        self.mark_final(*final_states)

    # -- building ----------------------------------------------------------

    @property
    def states(self) -> list[str]:
        """Every state, in the order it first appeared (initial first)."""
        return list(self._states)

    @property
    def final_states(self) -> frozenset[str]:
        """The states a machine stops in."""
        return self._final

    def add_transition(
        self,
        from_state: str,
        to_state: str,
        event: str,
        guard: Guard | None = None,
        action: Action | None = None,
    ) -> Transition:
        """Add a transition; ``from_state="*"`` means from every non-final state.

        ``guard(context)`` decides whether it may fire; ``action(context)``
        runs when it fires, before the state changes.
        """
        name = self.name
        _check_name(name, "from_state", from_state)
        _check_name(name, "to_state", to_state)
        _check_name(name, "event", event)
        if to_state == WILDCARD:
            raise FSMDefinitionError(name, f"event {event!r}: '*' cannot be a target state")
        for label, fn in (("guard", guard), ("action", action)):
            if fn is not None and not callable(fn):
                raise FSMDefinitionError(name, f"event {event!r}: {label} is not callable: {fn!r}")
        transition = Transition(from_state, to_state, event, guard, action)
        with self._lock:
            if from_state in self._final:
                raise FSMDefinitionError(
                    name, f"state {from_state!r} is final: it cannot have transitions out"
                )
            self.transitions.append(transition)
            if from_state == WILDCARD:
                self._wildcard[event] = self._wildcard.get(event, ()) + (transition,)
            else:
                self._states.setdefault(from_state, None)
                key = (from_state, event)
                self._explicit[key] = self._explicit.get(key, ()) + (transition,)
            self._states.setdefault(to_state, None)
            self._resolved = {}
        return transition

    def mark_final(self, *states: str) -> None:
        """Make ``states`` final: no transition leaves them."""
        for state in states:
            _check_name(self.name, "final state", state)
        with self._lock:
            for state in states:
                if any(f == state for f, _ in self._explicit):
                    raise FSMDefinitionError(
                        self.name, f"state {state!r} has transitions out, so it cannot be final"
                    )
                self._states.setdefault(state, None)
            self._final = self._final | frozenset(states)
            self._resolved = {}

    def on_enter(self, state: str, fn: Hook | None = None) -> Any:
        """Run ``fn(context)`` whenever a transition enters ``state``.

        Without ``fn`` this is a decorator. Enter hooks do not run for the
        initial state of a new instance.
        """
        return self._add_hook(self._on_enter, "on_enter", state, fn)

    def on_exit(self, state: str, fn: Hook | None = None) -> Any:
        """Run ``fn(context)`` whenever a transition leaves ``state``."""
        return self._add_hook(self._on_exit, "on_exit", state, fn)

    def _add_hook(
        self, table: dict[str, tuple[Hook, ...]], kind: str, state: str, fn: Hook | None
    ) -> Any:
        _check_name(self.name, f"{kind} state", state)
        if fn is None:
            def decorator(func: Hook) -> Hook:
                self._add_hook(table, kind, state, func)
                return func

            return decorator
        if not callable(fn):
            raise FSMDefinitionError(self.name, f"{kind} hook for {state!r} is not callable: {fn!r}")
        with self._lock:
            table[state] = table.get(state, ()) + (fn,)
            self._states.setdefault(state, None)
            self._resolved = {}
        return fn

    # -- lookup ------------------------------------------------------------

    def candidates(self, state: str, event: str) -> tuple[Transition, ...]:
        """The transitions ``event`` may take from ``state``, in firing order."""
        return tuple(route.transition for route in self.routes(state, event))

    def routes(self, state: str, event: str) -> tuple[Route, ...]:
        """The candidates for ``(state, event)`` with their hooks, cached."""
        cache = self._resolved
        found = cache.get((state, event))
        if found is not None:
            return found
        with self._lock:
            transitions = self._explicit.get((state, event), ())
            if state not in self._final:
                transitions = transitions + self._wildcard.get(event, ())
            exits = self._on_exit.get(state, ())
            found = tuple(
                Route(
                    t, t.guard, t.guard_name, t.to_state,
                    exits + ((t.action,) if t.action else ()) + self._on_enter.get(t.to_state, ()),
                    ("on_exit",) * len(exits)
                    + (("action",) if t.action else ())
                    + ("on_enter",) * len(self._on_enter.get(t.to_state, ())),
                )
                for t in transitions
            )
        # Unknown events are not cached, so arbitrary event names cannot grow
        # the cache without bound. The cache read before the tables: a change
        # made meanwhile swapped in a new cache, so this entry is not seen.
        if found:
            cache[(state, event)] = found
        return found

    def events_from(self, state: str) -> list[str]:
        """Every event that has a transition from ``state`` (guards ignored)."""
        with self._lock:
            events = [e for (s, e) in self._explicit if s == state]
            if state not in self._final:
                events += list(self._wildcard)
        return list(dict.fromkeys(events))

    def edges(self) -> list[tuple[str, str, Transition]]:
        """Every (from, to, transition) with wildcards expanded per state."""
        with self._lock:
            states = list(self._states)
            final = self._final
            edges: list[tuple[str, str, Transition]] = []
            for t in self.transitions:
                if t.from_state == WILDCARD:
                    edges.extend((s, t.to_state, t) for s in states if s not in final)
                else:
                    edges.append((t.from_state, t.to_state, t))
        return edges

    # -- instances ---------------------------------------------------------

    def create_instance(
        self,
        instance_id: str,
        context: dict[str, Any] | None = None,
        *,
        runtime: Runtime | None = None,
        record_context: bool = True,
    ) -> MachineInstance:
        """Start a new instance in the initial state, kept in ``instances``."""
        from .instances import MachineInstance

        _check_name(self.name, "instance id", instance_id)
        with self._lock:
            if instance_id in self.instances:
                raise FSMDefinitionError(self.name, f"instance {instance_id!r} already exists")
            instance = MachineInstance(
                self,
                instance_id,
                context,
                runtime=runtime if runtime is not None else self.runtime,
                record_context=record_context,
            )
            self.instances[instance_id] = instance
        instance._announce()
        return instance

    def _note_finished(self, instance_id: str) -> None:
        """An instance reached a final state: keep only the newest finished ones."""
        with self._lock:
            self._finished.append(instance_id)
            while len(self._finished) > self.keep_finished:
                oldest = self.instances.get(self._finished.popleft())
                if oldest is not None and oldest.is_final:
                    del self.instances[oldest.instance_id]

    def instance(self, instance_id: str) -> MachineInstance:
        """The instance with ``instance_id``."""
        found = self.instances.get(instance_id)
        if found is None:
            raise FSMDefinitionError(self.name, f"no instance {instance_id!r}")
        return found

    def fire(self, instance_id: str, event: str) -> bool:
        """Trigger ``event`` on the instance ``instance_id``."""
        return self.instance(instance_id).trigger(event)

    # -- checks and views --------------------------------------------------

    def validate(self, raise_errors: bool = True) -> list[Problem]:
        """Find unreachable states and non-final states with no way out.

        Raises `FSMValidationError` listing them (or, with
        ``raise_errors=False``, returns them); returns [] when there are none.
        A self-loop is not a way out.
        """
        from .views import find_problems

        problems = find_problems(self)
        if problems and raise_errors:
            raise FSMValidationError(self.name, problems)
        return problems

    def describe(self) -> dict[str, Any]:
        """A plain dict of the definition (the workflow spec the console draws).

        Wildcard transitions are listed once per state they apply to, marked
        ``"wildcard": True``.
        """
        from .views import describe

        return describe(self)

    def to_mermaid(self) -> str:
        """The definition as a Mermaid ``stateDiagram-v2``."""
        from .views import to_mermaid

        return to_mermaid(self)

    def __repr__(self) -> str:
        return (
            f"MachineDefinition(name={self.name!r}, initial={self.initial_state!r}, "
            f"states={len(self._states)}, transitions={len(self.transitions)})"
        )
