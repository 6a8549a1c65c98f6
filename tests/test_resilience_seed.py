"""The seed's error-handling example (pattern 5), run unchanged under a fake clock."""

from __future__ import annotations

import random

from engine import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    DeadLetterQueue,
    EventBus,
    FakeClock,
    RetryStrategy,
    Runtime,
    use_runtime,
)


def test_seed_error_handling_example_runs_unchanged(capsys) -> None:
    random.seed(7)
    runtime = Runtime(EventBus(enable_event_sourcing=True), FakeClock())
    with use_runtime(runtime):
        # --- the seed's usage example, verbatim ---
        # Circuit breaker example
        circuit = CircuitBreaker(failure_threshold=3, timeout=10)

        def unreliable_api_call():
            if random.random() < 0.7:  # 70% failure rate
                raise Exception("API call failed")
            return "Success"

        # Retry with circuit breaker
        for i in range(10):
            try:
                result = RetryStrategy.exponential_backoff(
                    lambda: circuit.call(unreliable_api_call),
                    max_attempts=3
                )
                print(f"Call {i+1}: {result}")
            except Exception as e:
                print(f"Call {i+1}: Failed - {e}")
                # Send to DLQ
                dlq = DeadLetterQueue()
                dlq.send({"call": i+1, "error": str(e)})
        # --- end of the seed's example ---

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    assert all(line.startswith(f"Call {n}: ") for n, line in enumerate(lines, 1))
    failed = [line for line in lines if "Failed" in line]
    added = [e for e in runtime.bus.event_store if e.type == "dlq.added"]
    assert len(added) == len(failed) > 0
    assert [m["message"]["call"] for m in dlq.get_messages()] == [int(failed[-1].split()[1][:-1])]
    assert isinstance(circuit.state, CircuitState)
    assert runtime.clock.sleeps, "backoff slept on the fake clock, never for real"


def test_seed_breaker_raises_a_clear_error_when_open() -> None:
    runtime = Runtime(clock=FakeClock())
    circuit = CircuitBreaker(failure_threshold=1, timeout=10, runtime=runtime)
    try:
        circuit.call(lambda: 1 / 0)
    except ZeroDivisionError:
        pass
    try:
        circuit.call(lambda: "never")
    except CircuitOpenError as error:
        assert "is OPEN" in str(error)
    assert circuit.state == CircuitState.OPEN
