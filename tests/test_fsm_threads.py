"""Many threads triggering one machine: one transition at a time."""

from __future__ import annotations

import threading

from engine import StateMachine, TransitionNotFound


def test_sixteen_threads_leave_a_history_that_is_a_valid_path(runtime):
    ring = [f"r{i}" for i in range(5)]
    sm = StateMachine("r0", context={"count": 0}, runtime=runtime)
    edges = set()
    for i, state in enumerate(ring):
        nxt = ring[(i + 1) % len(ring)]
        sm.add_transition(state, nxt, "next", action=lambda ctx: ctx.__setitem__("count", ctx["count"] + 1))
        edges.add((state, nxt))
        sm.add_transition(state, "r0", "home")
        edges.add((state, "r0"))
    start = threading.Barrier(16)
    errors = []

    def worker(n):
        start.wait()
        for i in range(300):
            try:
                sm.trigger("home" if (i + n) % 7 == 0 else "next")
            except TransitionNotFound as exc:  # pragma: no cover - would be a bug
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = sm.history
    assert len(history) == 1 + 16 * 300
    assert all(pair in edges for pair in zip(history, history[1:]))
    log = sm.transitions_log
    assert [r.to_state for r in log] == history[1:]
    assert sm.context["count"] == sum(1 for r in log if r.event == "next")
    transitioned = [e for e in runtime.bus.event_store if e.type == "fsm.transitioned"]
    assert [e.data["to"] for e in transitioned] == history[1:]
