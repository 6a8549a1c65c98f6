"""Random transition tables against a small reference model (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import EventBus, FakeClock, Runtime, StateMachine, TransitionNotFound

STATES = ["s0", "s1", "s2", "s3"]
EVENTS = ["a", "b", "c"]

rows = st.lists(
    st.tuples(
        st.sampled_from(STATES + ["*"]),  # from
        st.sampled_from(STATES),  # to
        st.sampled_from(EVENTS),  # event
        st.sampled_from([None, True, False]),  # guard: none, passes, refuses
    ),
    max_size=12,
)


def reference(table, finals, initial, events):
    """The documented rules, written as plainly as possible."""
    state = initial
    outcomes = []
    for event in events:
        explicit = [r for r in table if r[0] == state and r[2] == event]
        wild = [r for r in table if r[0] == "*" and r[2] == event] if state not in finals else []
        candidates = explicit + wild
        if not candidates:
            outcomes.append("error")
            continue
        chosen = next((r for r in candidates if r[3] is not False), None)
        if chosen is None:
            outcomes.append(False)
        else:
            state = chosen[1]
            outcomes.append(True)
    return state, outcomes


@settings(max_examples=200, deadline=None)
@given(
    table=rows,
    finals=st.sets(st.sampled_from(STATES[1:]), max_size=2),
    events=st.lists(st.sampled_from(EVENTS), max_size=15),
)
def test_machine_matches_reference_model(table, finals, events):
    table = [r for r in table if r[0] not in finals]
    runtime = Runtime(EventBus(), FakeClock())
    sm = StateMachine("s0", runtime=runtime, final_states=finals)
    for src, dst, event, guard in table:
        fn = None if guard is None else (lambda ctx, g=guard: g)
        sm.add_transition(src, dst, event, guard=fn)
    outcomes = []
    for event in events:
        try:
            outcomes.append(sm.trigger(event))
        except TransitionNotFound:
            outcomes.append("error")
    expected_state, expected = reference(table, finals, "s0", events)
    assert outcomes == expected
    assert sm.current_state == expected_state
    assert sm.history[-1] == sm.current_state
    assert len(sm.history) == 1 + outcomes.count(True)
