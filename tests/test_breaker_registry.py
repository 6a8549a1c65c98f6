"""The breaker registry: one shared breaker per name, operator controls by name."""

from __future__ import annotations

import threading

import pytest

from engine import BreakerNotFound, BreakerRegistry, CircuitBreaker, CircuitOpenError, FlowError


def test_get_or_create_shares_one_breaker_per_name(runtime) -> None:
    first = runtime.breakers.get_or_create("payments", failure_threshold=3)
    assert runtime.breakers.get_or_create("payments") is first
    assert first.failure_threshold == 3 and first.runtime is runtime


def test_concurrent_get_or_create_makes_a_single_breaker(runtime) -> None:
    found: list[CircuitBreaker] = []
    barrier = threading.Barrier(16)

    def get() -> None:
        barrier.wait(5)
        found.append(runtime.breakers.get_or_create("db"))

    threads = [threading.Thread(target=get) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len({id(b) for b in found}) == 1 and len(found) == 16


def test_asking_again_with_new_settings_reconfigures_the_breaker(runtime) -> None:
    breaker = runtime.breakers.get_or_create("payments", failure_threshold=3)
    assert runtime.breakers.get_or_create("payments", failure_threshold=7) is breaker
    assert breaker.failure_threshold == 7


def test_all_lists_every_breaker_by_name(runtime) -> None:
    for name in ("zeta", "alpha", "mid"):
        runtime.breakers.get_or_create(name)
    assert [b.name for b in runtime.breakers.all()] == ["alpha", "mid", "zeta"]
    assert [s["name"] for s in runtime.breakers.snapshots()] == ["alpha", "mid", "zeta"]


def test_get_of_an_unknown_name_names_it_and_the_known_ones(runtime) -> None:
    runtime.breakers.get_or_create("payments")
    with pytest.raises(BreakerNotFound) as info:
        runtime.breakers.get("payment")
    assert "'payment'" in str(info.value) and "payments" in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, FlowError)


def test_operator_controls_by_name_are_audited(runtime) -> None:
    runtime.breakers.get_or_create("payments")
    runtime.breakers.force_open("payments", actor="alice", reason="incident 42")
    with pytest.raises(CircuitOpenError):
        runtime.breakers.get("payments").call(lambda: None)
    runtime.breakers.force_closed("payments", actor="alice")
    runtime.breakers.disable("payments", actor="bob")
    runtime.breakers.reset("payments", actor="bob", reason="recovered")
    forced = [e.data for e in runtime.bus.event_store if e.type == "breaker.forced"]
    assert [(d["breaker"], d["action"], d["actor"]) for d in forced] == [
        ("payments", "force_open", "alice"),
        ("payments", "force_closed", "alice"),
        ("payments", "disable", "bob"),
        ("payments", "reset", "bob"),
    ]
    assert forced[0]["reason"] == "incident 42"


def test_register_refuses_a_second_breaker_under_a_taken_name(runtime) -> None:
    registry = BreakerRegistry(runtime)
    registry.register(CircuitBreaker(name="x", runtime=runtime))
    with pytest.raises(FlowError, match="'x'"):
        registry.register(CircuitBreaker(name="x", runtime=runtime))


def test_runtime_breakers_is_one_lazily_built_registry(runtime) -> None:
    assert runtime.breakers is runtime.breakers
    assert isinstance(runtime.breakers, BreakerRegistry)


def test_get_or_create_refuses_an_unknown_setting_by_name(runtime) -> None:
    from engine import BreakerConfigError

    with pytest.raises(BreakerConfigError) as info:
        runtime.breakers.get_or_create("payments", failure_treshold=3)
    assert info.value.field == "failure_treshold" and "'payments'" in str(info.value)
    assert "payments" not in runtime.breakers
