"""The layered layout of a DAG: pure functions, no textual.

`layered_layout` places each task in the column of its depth (the longest
path from a root, so every edge points right), inserts a *waypoint* in each
column a long edge passes through, and orders every column to reduce edge
crossings with the barycentre heuristic (a few sweeps down and up, keeping
the best order seen). Ties break by name, so the same graph always gets the
same picture. A graph with a cycle (which the engine refuses to run, but a
file may still declare) is laid out anyway: the tasks on a cycle go to one
column after the others and their back edges are kept but not routed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Mapping, Sequence

SWEEPS = 8


@dataclass(frozen=True)
class Waypoint:
    """A point a long edge passes through in an intermediate column."""

    source: str
    target: str
    column: int


Slot = str | Waypoint


@dataclass
class Layout:
    """Where every task sits and how every edge runs.

    ``columns[c]`` lists the slots of column ``c`` top to bottom (task ids and
    waypoints); ``position[task]`` is ``(column, row)``; ``routes[(dep,
    task)]`` lists the ``(column, row)`` points of an edge from its source to
    its target, one per column; ``back_edges`` are edges that could not point
    right (cycles).
    """

    columns: list[list[Slot]] = field(default_factory=list)
    position: dict[str, tuple[int, int]] = field(default_factory=dict)
    routes: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    back_edges: list[tuple[str, str]] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        """Every task, column by column, top to bottom."""
        return [slot for column in self.columns for slot in column if isinstance(slot, str)]


def graph_shape(tasks: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A hashable key that changes exactly when the graph's shape changes."""
    return tuple(sorted((task, tuple(sorted(deps))) for task, deps in tasks.items()))


def _normalise(tasks: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for task, deps in tasks.items():
        graph.setdefault(str(task), [])
        for dep in deps:
            dep = str(dep)
            graph.setdefault(dep, [])
            if dep != str(task) and dep not in graph[str(task)]:
                graph[str(task)].append(dep)
    return graph


def _depths(graph: dict[str, list[str]]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    sorter = TopologicalSorter(graph)
    try:
        order = list(sorter.static_order())
    except CycleError:
        return _depths_with_cycles(graph)
    depth: dict[str, int] = {}
    for task in order:
        depth[task] = max((depth[d] + 1 for d in graph[task]), default=0)
    return depth, []


def _depths_with_cycles(graph: dict[str, list[str]]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    # Peel off the acyclic part; whatever is left sits on or behind a cycle.
    depth: dict[str, int] = {}
    remaining = dict(graph)
    progress = True
    while progress:
        progress = False
        for task in sorted(remaining):
            deps = remaining[task]
            if all(d in depth for d in deps):
                depth[task] = max((depth[d] + 1 for d in deps), default=0)
                del remaining[task]
                progress = True
    last = max(depth.values(), default=-1) + 1
    back: list[tuple[str, str]] = []
    for task in sorted(remaining):
        depth[task] = last
    for task in sorted(remaining):
        for dep in graph[task]:
            if depth[dep] >= depth[task]:
                back.append((dep, task))
    return depth, back


def count_crossings(layout: Layout) -> int:
    """How many pairs of routed edge segments cross between adjacent columns."""
    segments: dict[int, list[tuple[int, int]]] = {}
    for route in layout.routes.values():
        for (c1, r1), (_c2, r2) in zip(route, route[1:]):
            segments.setdefault(c1, []).append((r1, r2))
    crossings = 0
    for pairs in segments.values():
        for i, (a1, a2) in enumerate(pairs):
            for b1, b2 in pairs[i + 1 :]:
                if (a1 - b1) * (a2 - b2) < 0:
                    crossings += 1
    return crossings


def layered_layout(tasks: Mapping[str, Sequence[str]]) -> Layout:
    """Lay out ``tasks`` ({task: [dependencies]}) in columns by depth."""
    graph = _normalise(tasks)
    depth, back_edges = _depths(graph)
    back = set(back_edges)
    width = max(depth.values(), default=-1) + 1
    columns: list[list[Slot]] = [[] for _ in range(width)]
    for task in sorted(graph, key=lambda t: (depth[t], t)):
        columns[depth[task]].append(task)

    # Each forward edge becomes a chain of slots, one per column it spans.
    chains: dict[tuple[str, str], list[Slot]] = {}
    for task in sorted(graph):
        for dep in sorted(graph[task]):
            if (dep, task) in back:
                continue
            chain: list[Slot] = [dep]
            for column in range(depth[dep] + 1, depth[task]):
                waypoint = Waypoint(dep, task, column)
                columns[column].append(waypoint)
                chain.append(waypoint)
            chain.append(task)
            chains[(dep, task)] = chain

    upper: dict[Slot, list[Slot]] = {}
    lower: dict[Slot, list[Slot]] = {}
    for chain in chains.values():
        for a, b in zip(chain, chain[1:]):
            lower.setdefault(a, []).append(b)
            upper.setdefault(b, []).append(a)

    columns = _reduce_crossings(columns, upper, lower, chains)
    return _build(columns, chains, back_edges)


def _slot_key(slot: Slot) -> str:
    return slot if isinstance(slot, str) else f"{slot.source}\x00{slot.target}\x00{slot.column}"


def _reorder(column: list[Slot], neighbours: dict[Slot, list[Slot]], index: dict[Slot, int]) -> list[Slot]:
    current = {slot: i for i, slot in enumerate(column)}

    def barycentre(slot: Slot) -> float:
        near = neighbours.get(slot)
        if not near:
            return float(current[slot])
        return sum(index[n] for n in near) / len(near)

    return sorted(column, key=lambda s: (barycentre(s), current[s]))


def _reduce_crossings(
    columns: list[list[Slot]],
    upper: dict[Slot, list[Slot]],
    lower: dict[Slot, list[Slot]],
    chains: dict[tuple[str, str], list[Slot]],
) -> list[list[Slot]]:
    best = [list(c) for c in columns]
    best_crossings = count_crossings(_build(best, chains, []))
    current = [list(c) for c in columns]
    for sweep in range(SWEEPS):
        index = {slot: row for column in current for row, slot in enumerate(column)}
        if sweep % 2 == 0:
            for c in range(1, len(current)):
                current[c] = _reorder(current[c], upper, index)
                index.update({slot: row for row, slot in enumerate(current[c])})
        else:
            for c in range(len(current) - 2, -1, -1):
                current[c] = _reorder(current[c], lower, index)
                index.update({slot: row for row, slot in enumerate(current[c])})
        crossings = count_crossings(_build(current, chains, []))
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in current], crossings
        if best_crossings == 0:
            break
    return best


def _build(
    columns: list[list[Slot]],
    chains: dict[tuple[str, str], list[Slot]],
    back_edges: list[tuple[str, str]],
) -> Layout:
    layout = Layout(columns=columns, back_edges=list(back_edges))
    place: dict[Slot, tuple[int, int]] = {}
    for c, column in enumerate(columns):
        for r, slot in enumerate(column):
            place[slot] = (c, r)
            if isinstance(slot, str):
                layout.position[slot] = (c, r)
    for edge, chain in chains.items():
        layout.routes[edge] = [place[slot] for slot in chain]
    return layout
