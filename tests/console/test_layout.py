"""The layered DAG layout: columns by depth, waypoints, fewer crossings."""

from __future__ import annotations

from console.layout import Waypoint, count_crossings, graph_shape, layered_layout

DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def test_each_task_sits_in_the_column_of_its_longest_path_from_a_root() -> None:
    layout = layered_layout({"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]})
    assert {t: layout.position[t][0] for t in "abcd"} == {"a": 0, "b": 1, "c": 2, "d": 3}


def test_every_edge_points_right() -> None:
    layout = layered_layout(DIAMOND)
    for (source, target), route in layout.routes.items():
        assert [c for c, _ in route] == list(range(layout.position[source][0], layout.position[target][0] + 1))


def test_a_long_edge_gets_a_waypoint_in_each_column_it_crosses() -> None:
    layout = layered_layout({"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]})
    waypoints = [slot for column in layout.columns for slot in column if isinstance(slot, Waypoint)]
    assert [(w.source, w.target, w.column) for w in waypoints] == [("a", "d", 1), ("a", "d", 2)]
    assert len(layout.routes[("a", "d")]) == 4


def test_unknown_dependency_becomes_a_root_task() -> None:
    layout = layered_layout({"b": ["a"]})
    assert layout.position["a"] == (0, 0)
    assert layout.position["b"] == (1, 0)


def test_ordering_removes_an_avoidable_crossing() -> None:
    # In name order x1->y2 and x2->y1 would cross; the barycentre sweep untangles it.
    graph = {"x1": [], "x2": [], "y1": ["x2"], "y2": ["x1"]}
    layout = layered_layout(graph)
    assert count_crossings(layout) == 0


def test_count_crossings_counts_a_forced_crossing() -> None:
    # K(2,2) between two columns must cross once whatever the order.
    graph = {"a": [], "b": [], "c": ["a", "b"], "d": ["a", "b"]}
    assert count_crossings(layered_layout(graph)) == 1


def test_layout_is_deterministic() -> None:
    graph = {f"t{i}": [f"t{j}" for j in range(i) if (i * j) % 3 == 1] for i in range(30)}
    first, second = layered_layout(graph), layered_layout(dict(reversed(list(graph.items()))))
    assert first.columns == second.columns


def test_a_cycle_is_laid_out_with_its_back_edges_reported() -> None:
    layout = layered_layout({"a": ["b"], "b": ["a"], "c": []})
    assert set(layout.position) == {"a", "b", "c"}
    assert layout.position["c"][0] < layout.position["a"][0]
    assert set(layout.back_edges) == {("a", "b"), ("b", "a")}


def test_graph_shape_ignores_order_but_sees_new_edges() -> None:
    assert graph_shape({"a": [], "b": ["a"]}) == graph_shape({"b": ["a"], "a": []})
    assert graph_shape({"a": [], "b": ["a"]}) != graph_shape({"a": [], "b": []})


def test_empty_graph_has_no_columns() -> None:
    assert layered_layout({}).columns == []


def test_large_graph_lays_out_every_task() -> None:
    graph = {f"t{i:03d}": ([f"t{i - 1:03d}"] if i % 10 else []) for i in range(300)}
    layout = layered_layout(graph)
    assert len(layout.nodes) == 300
