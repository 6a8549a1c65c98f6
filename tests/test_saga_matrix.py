"""The failure matrix of a three-step saga.

Every forward step failing (or none), times every combination of
compensations failing: compensations run exactly for the completed steps,
once each (a failing one once per allowed attempt), in reverse order; the
final status, the error and the dead letters are right in every cell.
"""

from __future__ import annotations

import itertools

import pytest

from engine import RetryPolicy, SagaError, SagaOrchestrator, SagaStatus

STEPS = ["reserve", "pay", "ship"]
ATTEMPTS = 2


def build(runtime, failing_step, failing_compensations, calls):
    saga = SagaOrchestrator(
        "order", runtime=runtime,
        compensation_retry=RetryPolicy(max_attempts=ATTEMPTS, base_delay=0, max_delay=0),
    )
    for name in STEPS:
        def forward(name=name):
            calls.append(("forward", name))
            if name == failing_step:
                raise RuntimeError(f"{name} failed")
            return f"{name}-ok"

        def compensate(name=name):
            calls.append(("compensate", name))
            if name in failing_compensations:
                raise RuntimeError(f"undo {name} failed")

        saga.add_step(name, forward, compensate)
    return saga


CELLS = [
    (failing, set(combo))
    for failing in STEPS
    for r in range(len(STEPS) + 1)
    for combo in itertools.combinations(STEPS, r)
]


@pytest.mark.parametrize(
    "failing_step,failing_compensations", CELLS,
    ids=[f"{f}-fails-undo-{'+'.join(sorted(c)) or 'ok'}" for f, c in CELLS],
)
def test_failure_matrix(runtime, failing_step, failing_compensations):
    calls = []
    saga = build(runtime, failing_step, failing_compensations, calls)
    with pytest.raises(SagaError) as info:
        saga.execute()

    completed = STEPS[: STEPS.index(failing_step)]
    expected_calls = [("forward", s) for s in completed + [failing_step]]
    for name in reversed(completed):
        expected_calls += [("compensate", name)] * (ATTEMPTS if name in failing_compensations else 1)
    assert calls == expected_calls

    failed_undo = [s for s in reversed(completed) if s in failing_compensations]
    expected_status = SagaStatus.COMPENSATION_FAILED if failed_undo else SagaStatus.COMPENSATED
    error = info.value
    assert saga.status is expected_status
    assert error.status is expected_status
    assert error.failed_step == failing_step
    assert str(error.error) == f"{failing_step} failed"
    assert [(c.step, c.status) for c in error.compensations] == [
        (s, "failed" if s in failing_compensations else "compensated") for s in reversed(completed)
    ]

    letters = runtime.dlq.list(source="saga.compensation")
    assert sorted(letter.unit for letter in letters) == sorted(failed_undo)
    assert all(letter.workflow == "order" and letter.attempts == ATTEMPTS for letter in letters)

    final = [e for e in runtime.bus.event_store if e.type in ("saga.compensated", "saga.compensation_failed")]
    assert [e.type for e in final] == [
        "saga.compensation_failed" if failed_undo else "saga.compensated"
    ]


def test_no_failure_runs_every_step_and_no_compensation(runtime):
    calls = []
    saga = build(runtime, None, set(STEPS), calls)
    assert saga.execute() == {s: f"{s}-ok" for s in STEPS}
    assert calls == [("forward", s) for s in STEPS]
    assert saga.status is SagaStatus.COMPLETED
