"""HALF_OPEN under a stampede: exactly ``half_open_max_calls`` probes get in."""

from __future__ import annotations

import threading

import pytest

from engine import CircuitBreaker, CircuitOpenError, CircuitState

THREADS = 32
ROUNDS = 60


class Boom(Exception):
    pass


def fail() -> None:
    raise Boom("down")


@pytest.mark.parametrize("max_probes", [1, 3])
def test_half_open_admits_exactly_half_open_max_calls_of_32_threads_released_together(
    runtime, fake_clock, max_probes
) -> None:
    b = CircuitBreaker(failure_threshold=1, timeout=5, half_open_max_calls=max_probes, name="svc", runtime=runtime)
    start = threading.Barrier(THREADS + 1)
    finish = threading.Barrier(THREADS + 1)
    cond = threading.Condition()
    gate = threading.Event()
    counts = {"arrived": 0, "admitted": 0, "rejected": 0}
    stop = threading.Event()
    errors: list[BaseException] = []

    def probe() -> str:
        with cond:
            counts["admitted"] += 1
            counts["arrived"] += 1
            cond.notify_all()
        gate.wait(10)
        return "ok"

    def worker() -> None:
        try:
            while True:
                start.wait(10)
                if stop.is_set():
                    return
                try:
                    b.call(probe)
                except CircuitOpenError:
                    with cond:
                        counts["rejected"] += 1
                        counts["arrived"] += 1
                        cond.notify_all()
                finish.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    admitted_per_round: list[int] = []
    try:
        for _ in range(ROUNDS):
            with pytest.raises(Boom):
                b.call(fail)
            assert b.state is CircuitState.OPEN
            fake_clock.advance(5)
            gate.clear()
            with cond:
                counts.update(arrived=0, admitted=0, rejected=0)
            start.wait(10)
            with cond:
                assert cond.wait_for(lambda: counts["arrived"] == THREADS, 10)
                admitted_per_round.append(counts["admitted"])
            gate.set()
            finish.wait(10)
            assert b.state is CircuitState.CLOSED
    finally:
        stop.set()
        gate.set()
        try:
            start.wait(10)
        except threading.BrokenBarrierError:
            pass
        for t in threads:
            t.join(10)
    assert errors == []
    assert not any(t.is_alive() for t in threads)
    assert admitted_per_round == [max_probes] * ROUNDS
    snapshot = b.snapshot()
    assert snapshot["rejections"] == ROUNDS * (THREADS - max_probes)
