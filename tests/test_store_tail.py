"""Following a state directory's event log from another connection (what an attached console reads)."""

from __future__ import annotations

import time

from engine import Event, EventBus, FakeClock, Runtime
from engine.store import Store
from engine.store.tail import EventTail

from console.attached_engine import AttachedEngine
from console.bridge import EventBridge


def _store(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    return runtime, Store.open(tmp_path / "state").attach(runtime)


def _publish(runtime, store, types):
    for kind in types:
        runtime.bus.publish(Event(kind, {}))
    store.flush()


def test_a_poll_returns_what_was_committed_since_the_last_one_in_order(tmp_path):
    runtime, store = _store(tmp_path)
    tail = EventTail(tmp_path / "state")
    tail.opening_events(owner_started=None)
    _publish(runtime, store, ["a.one", "a.two"])
    assert [e.type for e in tail.poll()] == ["a.one", "a.two"]
    _publish(runtime, store, ["a.three"])
    assert [e.type for e in tail.poll()] == ["a.three"]
    tail.close()
    store.close()


def test_an_idle_log_is_not_read_again(tmp_path):
    runtime, store = _store(tmp_path)
    _publish(runtime, store, ["a.one"])
    tail = EventTail(tmp_path / "state")
    tail.opening_events(owner_started=None)
    reads = []
    conn = tail._connection()
    conn.set_trace_callback(reads.append)
    assert tail.poll() == [] and tail.poll() == []
    assert all("data_version" in sql for sql in reads)
    tail.close()
    store.close()


def test_a_poll_reads_at_most_one_batch_and_the_next_poll_goes_on(tmp_path):
    runtime, store = _store(tmp_path)
    tail = EventTail(tmp_path / "state", batch=3)
    tail.opening_events(owner_started=None)
    _publish(runtime, store, [f"n.{i}" for i in range(7)])
    batches = [[e.type for e in tail.poll()] for _ in range(4)]
    assert batches == [["n.0", "n.1", "n.2"], ["n.3", "n.4", "n.5"], ["n.6"], []]
    tail.close()
    store.close()


def test_opening_events_hold_the_owners_workflows_and_the_newest_events(tmp_path):
    runtime, store = _store(tmp_path)
    started = runtime.clock.time()
    _publish(runtime, store, ["workflow.loaded"] + [f"old.{i}" for i in range(5)] + ["new.1", "new.2"])
    tail = EventTail(tmp_path / "state")
    opening = tail.opening_events(owner_started=started, window=2)
    assert [e.type for e in opening] == ["workflow.loaded", "new.1", "new.2"]
    assert tail.cursor == opening[-1].seq
    tail.close()
    store.close()


def test_two_attached_consoles_each_see_every_event(tmp_path):
    runtime, store = _store(tmp_path)
    viewers = [AttachedEngine(tmp_path / "state", poll=0.01) for _ in range(2)]
    seen: list[list[str]] = [[], []]
    for viewer, into in zip(viewers, seen):
        viewer.bus.subscribe("*", lambda event, into=into: into.append(event.type))
        viewer.start()
    _publish(runtime, store, ["x.1", "x.2", "x.3"])
    deadline = time.monotonic() + 10
    while any(len(s) < 3 for s in seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    for viewer in viewers:
        viewer.stop()
    store.close()
    assert seen == [["x.1", "x.2", "x.3"]] * 2


def test_an_attached_console_derives_metrics_from_the_owners_events(tmp_path):
    runtime, store = _store(tmp_path)
    runtime.bus.publish(Event("run.started", {"workflow": "w", "kind": "dag"}, workflow="w", run_id="r1"))
    store.flush()
    viewer = AttachedEngine(tmp_path / "state")
    families = {family["name"]: family for family in viewer.metrics.collect()}
    viewer.stop()
    store.close()
    assert any("runs_started" in name for name in families)


def test_the_bridge_takes_an_attached_engines_events_like_a_local_one(tmp_path):
    runtime, store = _store(tmp_path)
    _publish(runtime, store, ["before.open"])
    viewer = AttachedEngine(tmp_path / "state", poll=0.01)
    bridge = EventBridge(viewer.bus)
    bridge.attach()
    viewer.start()
    _publish(runtime, store, ["after.open"])
    deadline = time.monotonic() + 10
    taken: list[str] = []
    while "after.open" not in taken and time.monotonic() < deadline:
        taken += [e.type for e in bridge.take()]
        time.sleep(0.01)
    viewer.stop()
    store.close()
    assert [e.type for e in viewer.opening] == ["before.open"]
    assert taken == ["after.open"]


def test_remote_commands_offer_every_command_a_local_console_has():
    from console.commands import EngineCommands
    from console.remote_commands import RemoteCommands

    local = {name for name in vars(EngineCommands) if not name.startswith("_") and callable(getattr(EngineCommands, name))}
    remote = {name for name in vars(RemoteCommands) if not name.startswith("_")}
    assert local - remote <= {"workflow_names"}
