"""Running state-machine instances: one state, context and history each.

A `MachineInstance` is one run of a `MachineDefinition` (one order, one
deployment). A transition, in order: the first candidate whose guard passes
is chosen; the source state's exit hooks, the transition's action and the
target's enter hooks run; only when all of them returned does the state
change. If one raises, the instance stays in its source state,
``fsm.action_failed`` is published and the error is re-raised.

Every change is an event carrying ``workflow=`` (the machine's name) and
data ``instance``, ``from``, ``to``, ``event``, ``guard``, ``time_in_state``
and ``time``: ``fsm.instance_created``, ``fsm.transitioned``,
``fsm.blocked`` (every guard refused), ``fsm.rejected`` (no transition),
``fsm.action_failed``, ``fsm.reset``, ``fsm.instance_restored``.

Elsewhere, and importable from here as well: the errors ``trigger`` raises
(`TransitionNotFound`, `ReentrantTriggerError`) in `engine.fsm.errors`,
`TransitionRecord` and the rebuilding of a restored history in
`engine.fsm.history`. The questions that change nothing (``can_trigger``,
``get_available_events``, ``blocked_by``, ``why_not``) are methods here too.
"""

from __future__ import annotations

import threading
import time as _time
import traceback
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..clock import Clock, SystemClock
from ..events import correlated_event
from .history import TransitionRecord, rebuild_history
from .model import FSMDefinitionError, MachineDefinition, Route, callable_name
from .errors import ReentrantTriggerError, TransitionNotFound
from ..jsonable import NOT_PLAIN, plain_copy
from ..error_text import error_message

if TYPE_CHECKING:
    from ..runtime import Runtime


class MachineInstance:
    """One running instance of a `MachineDefinition`.

    ``current_state``, ``context`` (the dict guards and actions receive),
    ``history`` (the states entered, initial first) and ``transitions_log``
    (a `TransitionRecord` per transition) are its own.

    Thread safety: ``_lock`` (re-entrant, so an event subscriber may trigger
    the instance again) guards the state, history, log and the
    publication of the instance's events, so one transition happens at a time
    and its events are published in transition order. A guard, hook or
    action that triggers its own instance gets `ReentrantTriggerError`.
    With ``record_context`` (default) ``fsm.transitioned`` carries a copy of
    the context, when it is JSON-friendly, under ``context``.
    """

    __slots__ = (
        "definition", "instance_id", "context", "history", "_log",
        "_state", "_entered", "_lock", "_busy", "_publish", "_now",
        "_record_context", "_snapshot", "_correlation", "__weakref__",
    )

    def __init__(
        self,
        definition: MachineDefinition,
        instance_id: str,
        context: dict[str, Any] | None = None,
        *,
        runtime: Runtime | None = None,
        clock: Clock | None = None,
        record_context: bool = True,
    ) -> None:
        runtime = runtime if runtime is not None else definition.runtime
        clock = clock if clock is not None else runtime.clock
        self.definition = definition
        self.instance_id = instance_id
        self.context: dict[str, Any] = context if context is not None else {}
        self._publish = runtime.bus.publish
        self._correlation = (definition.name, None, None, None)
        # The system clock only forwards to time.time; calling it directly
        # saves a Python call on every transition.
        self._now = _time.time if isinstance(clock, SystemClock) else clock.time
        self._record_context = record_context
        self._snapshot: dict[str, Any] | None = None
        self._lock = threading.RLock()
        self._busy = False
        self._state = definition.initial_state
        self._entered = self._now()
        self.history: list[str] = [self._state]
        self._log: list[tuple[str, str, str, float]] = []

    # -- reading -----------------------------------------------------------

    @property
    def current_state(self) -> str:
        """The state the instance is in."""
        return self._state

    @property
    def name(self) -> str | None:
        """The machine's name (the ``workflow`` of its events)."""
        return self.definition.name

    @property
    def initial_state(self) -> str:
        """The definition's initial state."""
        return self.definition.initial_state

    @property
    def is_final(self) -> bool:
        """Whether the instance is in a final state."""
        return self._state in self.definition.final_states

    @property
    def transitions_log(self) -> list[TransitionRecord]:
        """(from, event, to, time) of every transition, oldest first (a copy)."""
        with self._lock:
            return [TransitionRecord._make(record) for record in self._log]

    def time_in_state(self) -> float:
        """Seconds since the instance entered its current state."""
        return self._now() - self._entered

    def snapshot(self) -> dict[str, Any]:
        """A plain dict of the instance (for the console and for recovery)."""
        with self._lock:
            context = plain_copy(self.context)
            return {
                "workflow": self.definition.name,
                "instance": self.instance_id,
                "state": self._state,
                "final": self._state in self.definition.final_states,
                "history": list(self.history),
                "entered": self._entered,
                "context": None if context is NOT_PLAIN else context,
            }

    # -- triggering --------------------------------------------------------

    def trigger(self, event: str) -> bool:
        """Fire ``event``: True if the state changed, False if every guard refused.

        Raises `TransitionNotFound` (a ValueError) when no transition exists
        for ``event`` from the current state. An action or hook that raises
        leaves the state unchanged and its error propagates.
        """
        with self._lock:
            if self._busy:
                raise ReentrantTriggerError(
                    f"instance {self.instance_id!r} of {self.definition.name!r} was "
                    f"triggered with {event!r} from inside its own transition"
                )
            definition = self.definition
            state = self._state
            routes = definition._resolved.get((state, event))
            if routes is None:
                routes = definition.routes(state, event)
                if not routes:
                    self._emit("fsm.rejected", state, None, event, None, self._now())
                    raise TransitionNotFound(definition.name, self.instance_id, state, event)
            context = self.context
            route = None
            fn: Any = None
            self._busy = True
            try:
                for candidate in routes:
                    fn = candidate[1]
                    if fn is None or fn(context):
                        route = candidate
                        for fn in route[4]:
                            fn(context)
                        break
            except Exception as exc:
                # Cleared first so subscribers of the failure may trigger again.
                self._busy = False
                self._failed(exc, state, event, route, fn)
                raise
            finally:
                self._busy = False
            if route is None:
                refused = [r.guard_name for r in routes]
                self._emit(
                    "fsm.blocked", state, None, event, refused[0], self._now(), guards=refused
                )
                return False
            now = self._now()
            target = route[3]
            data = {
                "instance": self.instance_id,
                "from": state,
                "to": target,
                "event": event,
                "guard": route[2],
                "time_in_state": now - self._entered,
                "time": now,
            }
            self._state = target
            self._entered = now
            self.history.append(target)
            self._log.append((state, event, target, now))
            if self._record_context:
                # An unchanged context (compared by value) reuses the previous
                # copy; event data is never mutated, so sharing it is safe.
                try:
                    changed = context != self._snapshot
                except Exception:  # noqa: BLE001 - values whose == cannot answer
                    changed = True
                if changed:
                    snapshot = plain_copy(context)
                    self._snapshot = None if snapshot is NOT_PLAIN else snapshot
                if self._snapshot is not None:
                    data["context"] = self._snapshot
            self._publish(correlated_event("fsm.transitioned", data, self._correlation))
            if target in definition._final:
                definition._note_finished(self.instance_id)
            return True

    def _failed(
        self, exc: Exception, state: str, event: str, route: Route | None, fn: Any
    ) -> None:
        if route is None:
            stage, target, guard = "guard", None, None
        else:
            callbacks = route.callbacks
            stage = route.stages[callbacks.index(fn)] if fn in callbacks else "guard"
            target, guard = route.target, route.guard_name
        self._emit(
            "fsm.action_failed", state, target, event, guard, self._now(),
            stage=stage,
            callback=callable_name(fn),
            error_type=type(exc).__name__,
            error=error_message(exc),
            traceback="".join(traceback.format_exception(exc)),
        )

    def _emit(
        self,
        kind: str,
        source: str,
        target: str | None,
        event: str | None,
        guard: str | None,
        now: float,
        **extra: Any,
    ) -> None:
        data = {
            "instance": self.instance_id,
            "from": source,
            "to": target,
            "event": event,
            "guard": guard,
            "time_in_state": now - self._entered,
            "time": now,
            **extra,
        }
        self._publish(correlated_event(kind, data, self._correlation))

    def _announce(self) -> None:
        with self._lock:
            self._emit(
                "fsm.instance_created", self._state, self._state, None, None, self._entered
            )

    # -- operating ---------------------------------------------------------

    def reset(self) -> None:
        """Go back to the initial state; clears context, history and log."""
        with self._lock:
            now = self._now()
            previous = self._state
            self._state = self.definition.initial_state
            self.history = [self._state]
            self._log = []
            self.context.clear()
            self._emit("fsm.reset", previous, self._state, None, None, now)
            self._entered = now

    def restore(
        self,
        state: str,
        context: Mapping[str, Any] | None,
        history: Iterable[Any],
    ) -> None:
        """Put the instance back in ``state`` (crash recovery).

        ``history`` lists either states or transition records (mappings with
        ``from``, ``event``, ``to``, ``time``, or `TransitionRecord` tuples);
        records rebuild ``transitions_log`` as well.
        """
        definition = self.definition
        if state not in definition._states:
            raise FSMDefinitionError(
                definition.name, f"cannot restore {self.instance_id!r} to unknown state {state!r}"
            )
        states, log = rebuild_history(definition, state, list(history))
        with self._lock:
            now = self._now()
            self._state = state
            self._entered = log[-1].time if log else now
            self.history = states
            self._log = [tuple(record) for record in log]
            self.context.clear()
            self.context.update(context or {})
            self._emit(
                "fsm.instance_restored", state, state, None, None, now,
                history_length=len(states),
            )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.definition.name!r}, "
            f"instance={self.instance_id!r}, state={self._state!r})"
        )

    # -- what-if questions that change nothing --------------------------------

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
