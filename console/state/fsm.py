"""View state of the state-machines panel, built from engine events only.

A pure reducer: `FsmView.apply(events)` folds ``workflow.loaded`` /
``workflow.reloaded`` (the machine's spec: states, final states,
transitions with their guards) and the ``fsm.*`` events into instances with
their current state, the time they entered it and their history. Nothing
here evaluates a guard: what an instance can take now is read from the spec
(unguarded transitions), refined by what the engine reported (``fsm.blocked``
names the guard that refused; ``available`` / ``blocked`` lists in event data
when the engine sends them). Only the UI thread calls `apply`, so no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

HISTORY_LIMIT = 200
INSTANCE_LIMIT = 5_000

# Outcome of an event option for the selected instance.
CAN_FIRE = "can"
GUARDED = "guarded"  # has a guard the console cannot evaluate; firing may be refused
REFUSED = "refused"  # the engine reported this guard refusing in the current state


@dataclass(slots=True)
class HistoryEntry:
    """One step of an instance's life: ``event`` took it ``source`` -> ``target``."""

    time: float
    source: str | None
    event: str | None
    target: str
    note: str = ""


@dataclass(slots=True)
class FsmInstance:
    """What the console knows of one instance of one machine."""

    machine: str
    instance: str
    state: str
    since: float
    history: list[HistoryEntry] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    available: list[str] | None = None
    blocked: dict[str, str] | None = None
    last_error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.machine, self.instance)


@dataclass(frozen=True, slots=True)
class EventOption:
    """An event the selected instance could be sent, and whether it can take it now."""

    event: str
    target: str | None
    guard: str | None
    status: str


class FsmView:
    """State machines and their instances, folded from events."""

    def __init__(self, clock: Clock | None = None, *, history_limit: int = HISTORY_LIMIT) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.history_limit = history_limit
        self.specs: dict[str, Mapping[str, Any]] = {}
        self.instances: dict[tuple[str, str], FsmInstance] = {}

    # -- folding ---------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            kind = event.type
            if kind in ("workflow.loaded", "workflow.reloaded"):
                changed |= self._on_spec(event)
            elif kind == "workflow.unloaded":
                changed |= self.specs.pop(str(event.data.get("name", event.workflow)), None) is not None
            elif kind.startswith("fsm."):
                changed |= self._on_fsm(event)
        return changed

    def _on_spec(self, event: Event) -> bool:
        data = event.data
        if data.get("kind") != "state_machine":
            return False
        spec = data.get("spec")
        if not isinstance(spec, Mapping):
            return False
        self.specs[str(data.get("name", event.workflow))] = spec
        return True

    def _on_fsm(self, event: Event) -> bool:
        data = event.data
        machine = str(event.workflow or data.get("machine") or "?")
        instance_id = data.get("instance", data.get("instance_id"))
        if instance_id is None:
            return False
        key = (machine, str(instance_id))
        inst = self.instances.get(key)
        kind = event.type
        # The engine stamps fsm events with its runtime clock; prefer that
        # time so "time in state" agrees with the engine's own clock.
        when = data.get("time")
        when = float(when) if isinstance(when, (int, float)) and not isinstance(when, bool) else event.ts
        if inst is None:
            if len(self.instances) >= INSTANCE_LIMIT:
                return False
            state = data.get("state", data.get("to", data.get("initial")))
            if state is None:
                state = data.get("from", "?")
            inst = FsmInstance(machine, key[1], str(state), when)
            self.instances[key] = inst
            self._record(inst, HistoryEntry(when, None, None, inst.state, "created"))
        if kind == "fsm.transitioned":
            target = str(data.get("to", inst.state))
            self._record(inst, HistoryEntry(
                when, _opt_str(data.get("from", inst.state)), _opt_str(data.get("event")), target
            ))
            inst.state = target
            inst.since = when
            inst.refused.clear()
            inst.last_error = None
        elif kind in ("fsm.reset", "fsm.instance_restored") and data.get("to") is not None:
            note = "reset" if kind == "fsm.reset" else "restored"
            inst.state = str(data["to"])
            inst.since = when
            inst.refused.clear()
            self._record(inst, HistoryEntry(when, _opt_str(data.get("from")), None, inst.state, note))
        elif kind == "fsm.blocked":
            name = str(data.get("event", "?"))
            inst.refused[name] = str(data.get("guard") or "guard")
        elif kind == "fsm.action_failed":
            inst.last_error = f"{data.get('error_type', 'Error')}: {data.get('error', '')}"
            self._record(inst, HistoryEntry(
                when, inst.state, _opt_str(data.get("event")), inst.state,
                f"action failed: {inst.last_error}",
            ))
        elif kind == "fsm.rejected":
            self._record(inst, HistoryEntry(
                when, inst.state, _opt_str(data.get("event")), inst.state, "rejected: no transition"
            ))
        if "available" in data and isinstance(data["available"], list):
            inst.available = [str(e) for e in data["available"]]
        if "blocked" in data and isinstance(data["blocked"], Mapping):
            inst.blocked = {str(k): str(v) for k, v in data["blocked"].items()}
        return True

    def _record(self, inst: FsmInstance, entry: HistoryEntry) -> None:
        inst.history.append(entry)
        if len(inst.history) > self.history_limit:
            del inst.history[: len(inst.history) - self.history_limit]

    # -- questions the panel asks -----------------------------------------

    def rows(self) -> list[FsmInstance]:
        """Every instance, by machine then instance id."""
        return [self.instances[k] for k in sorted(self.instances)]

    def time_in_state(self, inst: FsmInstance) -> float:
        """Seconds since ``inst`` entered its current state (by the injected clock)."""
        return max(0.0, self.clock.time() - inst.since)

    def spec(self, machine: str) -> Mapping[str, Any] | None:
        """The machine's spec as the loader published it, if known."""
        return self.specs.get(machine)

    def states(self, machine: str) -> list[str]:
        """The machine's states in spec order, or as seen in instances."""
        spec = self.specs.get(machine)
        if spec and isinstance(spec.get("states"), list):
            return [str(s) for s in spec["states"]]
        seen: list[str] = []
        for inst in self.instances.values():
            if inst.machine != machine:
                continue
            for entry in inst.history:
                for s in (entry.source, entry.target):
                    if s is not None and s not in seen:
                        seen.append(s)
        return seen

    def transitions(self, machine: str) -> list[Mapping[str, Any]]:
        """The machine's transitions (``from``, ``to``, ``event``, ``guard``)."""
        spec = self.specs.get(machine)
        if spec and isinstance(spec.get("transitions"), list):
            return [t for t in spec["transitions"] if isinstance(t, Mapping)]
        return []

    def is_final(self, inst: FsmInstance) -> bool:
        spec = self.specs.get(inst.machine) or {}
        return inst.state in [str(s) for s in spec.get("final") or ()]

    def options(self, inst: FsmInstance) -> list[EventOption]:
        """Every event of the machine: which the instance can take now, and why not."""
        by_event: dict[str, list[Mapping[str, Any]]] = {}
        for t in self.transitions(inst.machine):
            by_event.setdefault(str(t.get("event")), []).append(t)
        options: list[EventOption] = []
        for name, candidates in by_event.items():
            here = [t for t in candidates if str(t.get("from")) in (inst.state, "*")]
            # An explicit transition beats the wildcard, as in the engine.
            explicit = [t for t in here if str(t.get("from")) == inst.state]
            here = explicit or here
            if not here:
                options.append(EventOption(name, None, None, f"no transition from {inst.state}"))
                continue
            chosen = here[0]
            guard = _opt_str(chosen.get("guard"))
            target = _opt_str(chosen.get("to"))
            options.append(EventOption(name, target, guard, self._status(inst, name, guard)))
        if not by_event and inst.available is not None:
            options = [EventOption(e, None, None, CAN_FIRE) for e in inst.available]
        return sorted(options, key=_option_order)

    def _status(self, inst: FsmInstance, name: str, guard: str | None) -> str:
        if inst.blocked is not None and name in inst.blocked:
            return REFUSED
        if name in inst.refused:
            return REFUSED
        if inst.available is not None and name in inst.available:
            return CAN_FIRE
        return GUARDED if guard else CAN_FIRE

    def refusing_guard(self, inst: FsmInstance, option: EventOption) -> str | None:
        """The guard that refuses ``option`` now, as the engine named it."""
        if inst.blocked and option.event in inst.blocked:
            return inst.blocked[option.event]
        return inst.refused.get(option.event, option.guard)


def _option_order(option: EventOption) -> tuple[int, str]:
    rank = {CAN_FIRE: 0, GUARDED: 1, REFUSED: 2}.get(option.status, 3)
    return (rank, option.event)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
