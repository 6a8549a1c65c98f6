"""Views of a state-machine definition: its problems, its spec, its diagram.

Pure functions of a `MachineDefinition`, computed from its edges with the
wildcards expanded (``MachineDefinition.edges``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .model import WILDCARD, Problem

if TYPE_CHECKING:
    from .model import MachineDefinition

_MERMAID_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MERMAID_KEYWORDS = frozenset({"state", "end", "direction", "note", "class", "classDef"})


def find_problems(definition: MachineDefinition) -> list[Problem]:
    """Unreachable states, and non-final states whose only way out is none
    (a self-loop is not a way out)."""
    out: dict[str, set[str]] = {}
    for src, dst, _ in definition.edges():
        out.setdefault(src, set()).add(dst)
    initial = definition.initial_state
    reachable = {initial}
    frontier = [initial]
    while frontier:
        for nxt in out.get(frontier.pop(), ()):
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    final = definition.final_states
    problems: list[Problem] = []
    for state in definition.states:
        if state not in reachable:
            problems.append(Problem(
                "unreachable", state, f"state {state!r} cannot be reached from {initial!r}",
            ))
        if state not in final and not (out.get(state, set()) - {state}):
            problems.append(Problem(
                "dead_end", state, f"state {state!r} is not final and has no way out",
            ))
    return problems


def describe(definition: MachineDefinition) -> dict[str, Any]:
    """``{"initial", "states", "final", "transitions": [{"from", "to", "event", "guard"}]}``."""
    transitions = [
        {
            "from": src,
            "to": dst,
            "event": t.event,
            "guard": t.guard_name,
            **({"wildcard": True} if t.from_state == WILDCARD else {}),
        }
        for src, dst, t in definition.edges()
    ]
    return {
        "initial": definition.initial_state,
        "states": definition.states,
        "final": sorted(definition.final_states),
        "transitions": transitions,
    }


def to_mermaid(definition: MachineDefinition) -> str:
    """A Mermaid ``stateDiagram-v2``; states that are not plain identifiers get aliases."""
    ids: dict[str, str] = {}
    lines = ["stateDiagram-v2"]
    for index, state in enumerate(definition.states):
        if _MERMAID_ID.match(state) and state not in _MERMAID_KEYWORDS:
            ids[state] = state
        else:
            ids[state] = f"s{index}"
            label = state.replace('"', "'")
            lines.append(f'    state "{label}" as s{index}')
    lines.append(f"    [*] --> {ids[definition.initial_state]}")
    for src, dst, t in definition.edges():
        label = t.event if t.guard is None else f"{t.event} [{t.guard_name}]"
        lines.append(f"    {ids[src]} --> {ids[dst]} : {label}")
    for state in sorted(definition.final_states):
        lines.append(f"    {ids[state]} --> [*]")
    return "\n".join(lines) + "\n"
