"""Per-call overhead of a closed breaker (vs pybreaker) and of a first-time-success
retry (vs tenacity), in one run.

Each case calls a no-op N times (default 200,000) and reports the best of R
runs, minus the cost of calling the no-op directly, as nanoseconds of
overhead per call; then our overhead as a ratio to the peer's (below 1.0
means ours is cheaper).

    python benchmarks/resilience.py [--calls N] [--repeat R] [--quick]

Breakers: ours is a named `CircuitBreaker` on a runtime (outside any span, so
no tracing), pybreaker's a default `CircuitBreaker` with no listeners; both
are CLOSED throughout. Retries: `RetryPolicy.call` with a prebuilt policy
against tenacity's ``Retrying`` object called directly, and the seed's
`RetryStrategy.exponential_backoff` (which builds its policy per call)
against a ``@tenacity.retry``-decorated function.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pybreaker  # noqa: E402
import tenacity  # noqa: E402

from engine import CircuitBreaker, RetryPolicy, RetryStrategy, Runtime  # noqa: E402


def noop() -> int:
    return 1


def best_of(repeat: int, n: int, *calls: Callable[[], object]) -> list[float]:
    """Best seconds per call of each of ``calls`` over ``repeat`` loops of ``n`` calls.

    The calls take turns within each repeat, so a burst of load on the
    machine hits ours and the peer alike.
    """
    best = [float("inf")] * len(calls)
    for _ in range(repeat):
        for i, call in enumerate(calls):
            gc.collect()
            start = time.perf_counter()
            for _ in range(n):
                call()
            best[i] = min(best[i], time.perf_counter() - start)
    return [b / n for b in best]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 calls, 3 repeats")
    args = parser.parse_args(argv)
    n, repeat = (20_000, 3) if args.quick else (args.calls, args.repeat)

    runtime = Runtime()
    ours_breaker = CircuitBreaker(failure_threshold=5, timeout=60, name="bench", runtime=runtime)
    peer_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, multiplier=2.0, max_delay=60.0)
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_random_exponential(multiplier=1, max=60),
        reraise=True,
    )

    @tenacity.retry(
        stop=tenacity.stop_after_attempt(3),
        wait=tenacity.wait_random_exponential(multiplier=1, max=60),
        reraise=True,
    )
    def decorated() -> int:
        return 1

    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "closed breaker, no-op call",
            lambda: ours_breaker.call(noop),
            lambda: peer_breaker.call(noop),
        ),
        (
            "retry, first-time success (policy object)",
            lambda: policy.call(noop),
            lambda: retrying(noop),
        ),
        (
            "retry, first-time success (seed helper vs decorator)",
            lambda: RetryStrategy.exponential_backoff(noop, max_attempts=3),
            decorated,
        ),
    ]
    [baseline] = best_of(repeat, n, noop)
    print(f"python {sys.version.split()[0]}, pybreaker {_version('pybreaker')}, "
          f"tenacity {_version('tenacity')}; {n:,} calls x best of {repeat}")
    print(f"direct no-op call: {baseline * 1e9:.0f} ns")
    print(f"{'case':<52} {'ours ns':>9} {'peer ns':>9} {'ours/peer':>10}")
    worst = 0.0
    for name, ours, peer in cases:
        ours_s, peer_s = best_of(repeat, n, ours, peer)
        ours_ns = max(0.0, ours_s - baseline) * 1e9
        peer_ns = max(0.0, peer_s - baseline) * 1e9
        ratio = ours_ns / peer_ns if peer_ns else float("inf")
        worst = max(worst, ratio)
        print(f"{name:<52} {ours_ns:>9.0f} {peer_ns:>9.0f} {ratio:>10.2f}")
    verdict = "no slower than" if worst <= 1.0 else "SLOWER than"
    print(f"worst ratio {worst:.2f}: ours is {verdict} the peers")


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    main()
