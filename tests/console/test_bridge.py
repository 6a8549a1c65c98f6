"""The bus-to-UI bridge: bounded, never blocking, drained in batches."""

from __future__ import annotations

import threading
from typing import Sequence

from engine import Event, EventBus

from console.bridge import EventBridge


class Collect:
    """A reducer that keeps every batch it gets."""

    def __init__(self, changes: bool = True) -> None:
        self.batches: list[list[Event]] = []
        self.changes = changes

    def apply(self, events: Sequence[Event]) -> bool:
        self.batches.append(list(events))
        return self.changes and bool(events)

    @property
    def types(self) -> list[str]:
        return [e.type for batch in self.batches for e in batch]


def test_published_events_wait_in_the_buffer_until_pumped() -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    bus.publish(Event("a.one"))
    bus.publish(Event("a.two"))
    assert reducer.types == []
    assert bridge.pending == 2
    bridge.pump()
    assert reducer.types == ["a.one", "a.two"]


def test_one_pump_hands_the_whole_batch_at_once() -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    for i in range(100):
        bus.publish(Event("x", {"i": i}))
    bridge.pump()
    assert [len(b) for b in reducer.batches] == [100]


def test_pump_returns_only_the_reducers_that_changed() -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    changed, unchanged = Collect(True), Collect(False)
    bridge.register(changed)
    bridge.register(unchanged)
    bridge.attach()
    bus.publish(Event("x"))
    assert bridge.pump() == [changed]


def test_full_buffer_drops_the_oldest_and_counts_it() -> None:
    bus = EventBus()
    bridge = EventBridge(bus, capacity=3)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    for i in range(5):
        bus.publish(Event("x", {"i": i}))
    bridge.pump()
    assert bridge.dropped == 2
    assert [e.data["i"] for e in reducer.batches[0]] == [2, 3, 4]


def test_publisher_is_never_blocked_by_an_undrained_bridge() -> None:
    bus = EventBus()
    bridge = EventBridge(bus, capacity=100)
    bridge.attach()
    done = threading.Event()

    def publish() -> None:
        for _ in range(10_000):
            bus.publish(Event("flood"))
        done.set()

    thread = threading.Thread(target=publish)
    thread.start()
    thread.join(timeout=30)
    assert done.is_set()
    assert bridge.dropped == 10_000 - 100


def test_attach_replays_the_bus_store_first() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("before.one"))
    bus.publish(Event("before.two"))
    bridge = EventBridge(bus)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    assert reducer.types == ["before.one", "before.two"]
    bus.publish(Event("after"))
    bridge.pump()
    assert reducer.types == ["before.one", "before.two", "after"]


def test_an_event_both_stored_and_delivered_during_attach_is_applied_once() -> None:
    bus = EventBus(enable_event_sourcing=True)
    early = Event("early")
    bus.publish(early)
    bridge = EventBridge(bus)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    bridge.on_event(early)  # as if its delivery raced the store snapshot
    bridge.pump()
    assert reducer.types == ["early"]


def test_reducer_registered_after_attach_still_gets_the_replay() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("old"))
    bridge = EventBridge(bus)
    bridge.attach()
    reducer = Collect()
    bridge.register(reducer)
    assert reducer.types == ["old"]


def test_feed_applies_recorded_events_without_a_bus() -> None:
    bridge = EventBridge()
    reducer = Collect()
    bridge.register(reducer)
    bridge.feed([Event("recorded")])
    assert reducer.types == ["recorded"]


def test_detach_stops_delivery() -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    bridge.attach()
    bridge.detach()
    bus.publish(Event("x"))
    assert bridge.pending == 0


def test_pump_takes_at_most_max_batch_events() -> None:
    bus = EventBus()
    bridge = EventBridge(bus, max_batch=10)
    reducer = Collect()
    bridge.register(reducer)
    bridge.attach()
    for _ in range(25):
        bus.publish(Event("x"))
    bridge.pump()
    assert len(reducer.batches[-1]) == 10
    assert bridge.pending == 15


def test_counters_track_delivered_events() -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    bridge.attach()
    for _ in range(4):
        bus.publish(Event("x"))
    bridge.pump()
    assert (bridge.received, bridge.delivered, bridge.dropped) == (4, 4, 0)
