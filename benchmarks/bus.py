"""Event bus throughput against blinker and pyee, in one run.

Publishes N events (default 200,000) to 1 and to 10 subscribers, with event
sourcing on and off, and does the same with blinker (``Signal.send``) and
pyee (``EventEmitter.emit``). Prints events per second, nanoseconds per
delivery and our cost per delivery as a ratio to blinker's.

    python benchmarks/bus.py [--events N] [--repeat R]

Ours creates an `Event` per publish (that is what the engine does); the
peers send a plain dict, which is what their users do.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blinker import Signal  # noqa: E402
from pyee import EventEmitter  # noqa: E402

from engine import Event, EventBus  # noqa: E402


def noop(*args, **kwargs) -> None:
    return None


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_ours(n: int, subscribers: int, sourcing: bool, repeat: int) -> float:
    def run() -> None:
        bus = EventBus(enable_event_sourcing=sourcing, store_size=n)
        for _ in range(subscribers):
            bus.subscribe("bench", lambda e: None)
        publish = bus.publish
        data = {"k": 1}
        for _ in range(n):
            publish(Event("bench", data))

    return best_of(repeat, run)


def bench_blinker(n: int, subscribers: int, repeat: int) -> float:
    def run() -> None:
        signal = Signal()
        receivers = [lambda sender, **kw: None for _ in range(subscribers)]
        for r in receivers:
            signal.connect(r, weak=False)
        send = signal.send
        data = {"k": 1}
        for _ in range(n):
            send(None, data=data)

    return best_of(repeat, run)


def bench_pyee(n: int, subscribers: int, repeat: int) -> float:
    def run() -> None:
        emitter = EventEmitter()
        for _ in range(subscribers):
            emitter.on("bench", lambda data: None)
        emit = emitter.emit
        data = {"k": 1}
        for _ in range(n):
            emit("bench", data)

    return best_of(repeat, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.events, args.repeat
    print(f"{n:,} events, best of {repeat}; ns per delivery = time / (events x subscribers)")
    print(f"{'library':<28}{'subs':>5}{'events/s':>14}{'ns/delivery':>14}{'vs blinker':>12}")
    for subscribers in (1, 10):
        deliveries = n * subscribers
        blinker = bench_blinker(n, subscribers, repeat)
        rows = [
            ("blinker Signal.send", blinker),
            ("pyee EventEmitter.emit", bench_pyee(n, subscribers, repeat)),
            ("flowconsole, sourcing off", bench_ours(n, subscribers, False, repeat)),
            ("flowconsole, sourcing on", bench_ours(n, subscribers, True, repeat)),
        ]
        for name, seconds in rows:
            print(
                f"{name:<28}{subscribers:>5}{n / seconds:>14,.0f}"
                f"{seconds / deliveries * 1e9:>14.0f}{seconds / blinker:>11.2f}x"
            )
    print("target: flowconsole with sourcing on <= 1.5x blinker's cost per delivery")


if __name__ == "__main__":
    main()
