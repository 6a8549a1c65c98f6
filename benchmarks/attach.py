"""Attach benchmark: what an attached console sees, how fast, and what it costs the owner.

Three processes of this script: an *owner* (an `Engine` owning a state
directory, publishing task events at a fixed rate into its durable store), and
zero or one *viewer* (an `AttachedEngine` on the same directory, its events
going through the console's own `EventBridge`, pumped at the console's drain
interval, as an attached console's screen state is fed).

1. Event visibility: from an event's timestamp in the owner to the moment the
   viewer's bridge hands it to the view state, p50/p95, at 1,000 and 20,000
   events/s. The peer, in the same run, is the local console: the same bridge
   subscribed in-process to the owner's bus (no store between them).
2. Command round trip: a viewer writes a command (``breaker.snapshots``), the
   owner claims it and carries it out, the viewer sees the outcome; p50/p95.
3. The owner's CPU (user + system seconds of its process) on the same work,
   with no viewer and with one attached (no local bridge in either); the
   ratio is the attached console's cost to the owner.

    python benchmarks/attach.py [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine import Engine, Event  # noqa: E402
from engine.store import CommandBook, CommandStatus, read_owner  # noqa: E402

from console.bridge import EventBridge  # noqa: E402
from console.drain import DRAIN_INTERVAL  # noqa: E402


class _Latency:
    """A reducer that records, for each event, how long after its timestamp it arrived."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def apply(self, events) -> bool:
        now = time.time()
        self.samples.extend(now - event.ts for event in events if event.type == "bench.tick")
        return False

    def tick(self) -> bool:
        return False


def _pump(bridge: EventBridge, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        bridge.pump()
        time.sleep(DRAIN_INTERVAL)
    bridge.pump()


def _publish(engine: Engine, rate: int, seconds: float) -> None:
    """``rate`` events a second for ``seconds``, in 10 ms slices."""
    bus = engine.runtime.bus
    per_slice = max(1, rate // 100)
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + per_slice
        while sent < due:
            bus.publish(Event("bench.tick", {"n": sent}))
            sent += 1
        time.sleep(0.01)


def owner(args: argparse.Namespace) -> None:
    engine = Engine(None, state_dir=args.state, watch=False, schedules=False)
    engine.start()
    engine.runtime.breakers.get_or_create("bench")
    local = _Latency()
    pump = None
    if args.local:
        bridge = EventBridge(engine.runtime.bus)
        bridge.register(local)
        bridge.attach()
        pump = threading.Thread(target=_pump, args=(bridge, args.seconds + 0.5), daemon=True)
    Path(args.ready).write_text("ready")
    while not Path(args.go).exists():
        time.sleep(0.01)
    if pump is not None:
        pump.start()
    before = os.times()
    _publish(engine, args.rate, args.seconds)
    engine.store.flush(30)
    after = os.times()
    if pump is not None:
        pump.join()
    cpu = (after.user - before.user) + (after.system - before.system)
    Path(args.result).write_text(json.dumps({"cpu": cpu, "local": local.samples}))
    # Serve the viewer's commands until it is done.
    while not Path(args.go).with_name("done").exists():
        time.sleep(0.01)
    engine.stop()


def viewer(args: argparse.Namespace) -> None:
    from console.attached_engine import AttachedEngine

    engine = AttachedEngine(args.state)
    seen = _Latency()
    bridge = EventBridge(engine.bus)
    bridge.register(seen)
    bridge.attach()
    engine.start()
    Path(args.ready).write_text("ready")
    _pump(bridge, args.seconds + 1.5)
    round_trips = []
    book = CommandBook(args.state)
    for _ in range(args.commands):
        sent = time.time()
        command = book.submit("breaker.snapshots", {}, actor="bench", reason=None, now=sent, timeout=10)
        ended = book.wait(command.id, until=sent + 10, poll=0.005)
        if ended.status == CommandStatus.DONE:
            round_trips.append(time.time() - sent)
    engine.stop()
    Path(args.result).write_text(json.dumps({"attached": seen.samples, "round_trips": round_trips}))


def _spawn(role: str, state: Path, tmp: Path, name: str, **options: object) -> tuple[subprocess.Popen, Path, Path]:
    ready, result = tmp / f"{name}.ready", tmp / f"{name}.json"
    command = [sys.executable, __file__, "--role", role, "--state", str(state), "--ready", str(ready),
               "--result", str(result), "--go", str(tmp / "go")]
    for key, value in options.items():
        command += [f"--{key}", str(value)]
    return subprocess.Popen(command), ready, result


def _wait(path: Path, process: subprocess.Popen) -> None:
    while not path.exists():
        if process.poll() is not None:
            raise SystemExit(f"{path.stem} exited with {process.returncode}")
        time.sleep(0.01)


def _trial(rate: int, seconds: float, with_viewer: bool, commands: int, local: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        state = tmp / "state"
        owner_process, owner_ready, owner_result = _spawn(
            "owner", state, tmp, "owner", rate=rate, seconds=seconds, local=int(local)
        )
        _wait(owner_ready, owner_process)
        assert read_owner(state) is not None
        viewer_process = None
        if with_viewer:
            viewer_process, viewer_ready, viewer_result = _spawn(
                "viewer", state, tmp, "viewer", seconds=seconds, commands=commands
            )
            _wait(viewer_ready, viewer_process)
        (tmp / "go").write_text("go")
        if viewer_process is not None:
            viewer_process.wait()
        else:
            _wait(owner_result, owner_process)
        (tmp / "done").write_text("done")
        owner_process.wait()
        outcome = json.loads(owner_result.read_text())
        if viewer_process is not None:
            outcome.update(json.loads(viewer_result.read_text()))
        return outcome


def _ms(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--role", choices=["owner", "viewer"])
    parser.add_argument("--state", type=Path)
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--result", type=Path)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--local", type=int, default=1)
    args = parser.parse_args()
    if args.role == "owner":
        return owner(args)
    if args.role == "viewer":
        return viewer(args)

    print("1. event visibility: owner's event timestamp -> the console bridge's batch (ms)")
    round_trips: list[float] = []
    for rate in (1_000, 20_000):
        result = _trial(rate, args.seconds, True, args.commands if rate == 1_000 else 0)
        round_trips += result.get("round_trips", [])
        attached, local = result["attached"], result["local"]
        print(
            f"   {rate:>6,}/s  attached p50 {_ms(attached, 0.5):6.1f}  p95 {_ms(attached, 0.95):6.1f}"
            f"   local p50 {_ms(local, 0.5):5.1f}  p95 {_ms(local, 0.95):5.1f}"
            f"   events {len(attached):,}/{len(local):,}   p95 target <= 300 ms"
            f" {'OK' if _ms(attached, 0.95) <= 300 else 'MISSED'}"
        )
    print("2. command round trip (write -> owner claims, acts, records -> outcome seen), ms")
    print(
        f"   p50 {_ms(round_trips, 0.5):.1f}  p95 {_ms(round_trips, 0.95):.1f}  of {len(round_trips)}"
        f"   p95 target <= 500 ms {'OK' if _ms(round_trips, 0.95) <= 500 else 'MISSED'}"
    )
    print("3. the owner's CPU on the same work (1,000 events/s), best of 3")
    alone = min(_trial(1_000, args.seconds, False, 0, local=False)["cpu"] for _ in range(3))
    watched = min(_trial(1_000, args.seconds, True, 0, local=False)["cpu"] for _ in range(3))
    extra = (watched / alone - 1) * 100 if alone else float("nan")
    print(
        f"   no console {alone:.3f} s   one attached console {watched:.3f} s   "
        f"attached/alone = {watched / alone:.3f} ({extra:+.1f}%)   target <= +5% {'OK' if extra <= 5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
