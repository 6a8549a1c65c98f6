"""The runtime: the current one follows the context; definitions are versioned."""

from __future__ import annotations

import threading

from engine import Runtime, current_runtime, use_runtime


def test_current_runtime_defaults_to_one_process_runtime() -> None:
    assert current_runtime() is current_runtime()


def test_use_runtime_sets_the_current_runtime_inside_the_block() -> None:
    rt = Runtime()
    outside = current_runtime()
    with use_runtime(rt):
        assert current_runtime() is rt
    assert current_runtime() is outside


def test_use_runtime_does_not_leak_into_other_threads() -> None:
    rt = Runtime()
    seen: list[Runtime] = []
    with use_runtime(rt):
        t = threading.Thread(target=lambda: seen.append(current_runtime()))
        t.start()
        t.join()
    assert seen[0] is not rt


def test_definitions_register_new_generations() -> None:
    rt = Runtime()
    assert rt.definitions.register("etl", "v1") == 1
    assert rt.definitions.register("etl", "v2") == 2
    assert rt.definitions.get("etl") == "v2"
    assert rt.definitions.generation("etl") == 2


def test_unregistered_definition_is_none() -> None:
    rt = Runtime()
    rt.definitions.register("etl", "v1")
    rt.definitions.unregister("etl")
    assert rt.definitions.get("etl") is None and rt.definitions.names() == []


def test_runtime_defaults_to_an_event_sourced_bus() -> None:
    assert Runtime().bus.enable_event_sourcing
