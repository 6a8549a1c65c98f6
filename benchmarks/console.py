"""Console benchmark: key latency, UI CPU and delivery under an event flood;
process start to first frame.

Key latency (headless, ``run_test``): a publisher thread floods the bus with task
events at a target rate (default 20,000/s) while the operator switches views
with number keys. Measured: the time from a key press to the first frame
that shows its effect (p50, p95), the UI thread's CPU seconds per second,
events published, delivered and dropped. The peer, in the same run, is the
naive bridge the issue measured: one UI message per event (``post_message``
from the publisher thread), applied and drawn as each arrives.

Start-up (subprocesses): from process start to the first full frame of the
console on ``sample_workflows`` (and to the frame that shows every sample
loaded), against a bare Textual app's first frame.

Part 3 (subprocesses, `benchmarks/console_idle.py`): idle CPU, a share of
one core over ``--idle-seconds`` (default 60) on ``sample_workflows``, per
view, against the same engine headless (``flowconsole run sample_workflows
--watch``), and the difference; the goal is at most 3% beyond headless.
``--only-idle`` runs part 3 alone.

    /work/venv/bin/python benchmarks/console.py [--quick] [--rate N] [--seconds S]
        [--idle-seconds S] [--only-idle]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from textual import events  # noqa: E402
from textual.message import Message  # noqa: E402

from engine import Event, EventBus  # noqa: E402

from console.app import FlowConsoleApp  # noqa: E402

from console_idle import all_views, idle_cpu  # noqa: E402 - beside this file

TASKS = {f"t{i}": ([f"t{i - 1}"] if i else []) for i in range(12)}
STATUSES = ["task.started", "task.completed", "task.retrying", "task.failed"]


class Publisher(threading.Thread):
    """Publishes task events at ``rate`` per second, in 1 ms slices."""

    def __init__(self, bus: EventBus, rate: int) -> None:
        super().__init__(name="bench-publisher", daemon=True)
        self.bus = bus
        self.rate = rate
        self.published = 0
        self.stop_event = threading.Event()
        self.elapsed = 0.0

    def run(self) -> None:
        bus = self.bus
        bus.publish(Event("workflow.loaded", {"name": "flood", "kind": "dag", "spec": {"tasks": TASKS}}, workflow="flood"))
        bus.publish(Event("run.started", {"tasks": TASKS}, workflow="flood", run_id="r1"))
        start = time.perf_counter()
        n = 0
        while not self.stop_event.is_set():
            due = int((time.perf_counter() - start) * self.rate)
            while n < due:
                bus.publish(
                    Event(STATUSES[n % 4], {"task": f"t{n % 12}", "attempt": 1 + n % 3, "duration": 0.01},
                          workflow="flood", run_id="r1")
                )
                n += 1
            time.sleep(0.001)
        self.elapsed = time.perf_counter() - start
        self.published = n


class TimedApp(FlowConsoleApp):
    """Records when a frame first shows the view a key asked for."""

    expect: str | None = None
    pressed_at = 0.0
    latencies: list[float]

    def post_display_hook(self) -> None:
        if self.expect is not None and self.current_view == self.expect:
            self.latencies.append(time.perf_counter() - self.pressed_at)
            self.expect = None


class EventArrived(Message):
    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class NaiveApp(TimedApp):
    """The peer: one message per event, applied and drawn on arrival."""

    measuring = True

    def attach_naive(self, bus: EventBus) -> None:
        def post(event: Event) -> None:
            if self.measuring:
                self.post_message(EventArrived(event))

        bus.subscribe("*", post)

    def on_event_arrived(self, message: EventArrived) -> None:
        if not self.measuring:
            return  # after the measurement the backlog is only emptied, so the run ends
        batch = [message.event]
        for alias, state in self.view_states.items():
            if state.apply(batch) and alias == self.current_view:
                self._sync_view(alias)
        self.workflows_state.apply(batch)
        self.vitals_state.apply(batch)


async def measure(kind: str, rate: int, seconds: float, presses: int, press_timeout: float = 5.0) -> dict:
    bus = EventBus()
    if kind == "bridge":
        app: TimedApp = TimedApp(bus=bus)
    else:
        app = NaiveApp()
        app.attach_naive(bus)
    app.latencies = []
    app.animation_level = "none"
    publisher = Publisher(bus, rate)
    result: dict = {"kind": kind}
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        publisher.start()
        await asyncio.sleep(0.5)  # let the flood reach steady state
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        interval = seconds / presses
        timeouts = 0
        for i in range(presses):
            target = "events" if i % 2 == 0 else "dag"
            app.expect = target
            key = "8" if target == "events" else "1"
            # As a terminal's key arrives: from the driver, into the app's queue.
            key_event = events.Key(key, key)
            key_event.set_sender(app)
            app.pressed_at = time.perf_counter()
            app._driver.send_message(key_event)
            deadline = time.perf_counter() + press_timeout
            while app.expect is not None and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            if app.expect is not None:
                timeouts += 1
                app.expect = None
                if timeouts >= 3:
                    break
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - app.pressed_at)))
        cpu1, wall1 = time.thread_time(), time.perf_counter()
        if isinstance(app, NaiveApp):
            app.measuring = False
        publisher.stop_event.set()
        publisher.join()
        await pilot.pause(0.2)
        result["cpu_per_s"] = (cpu1 - cpu0) / (wall1 - wall0)
        result["latencies"] = sorted(app.latencies)
        result["timeouts"] = timeouts
        result["published"] = publisher.published
        result["rate"] = publisher.published / publisher.elapsed
        if kind == "bridge":
            result["delivered"] = app.bridge.delivered
            result["dropped"] = app.bridge.dropped
            result["pending"] = app.bridge.pending
    return result


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(result: dict) -> None:
    lat = result["latencies"]
    print(
        f"  {result['kind']:<22} published {result['published']:>8,} ({result['rate']:>8,.0f}/s)  "
        f"key->frame p50 {pct(lat, 50) * 1000:7.1f} ms  p95 {pct(lat, 95) * 1000:7.1f} ms  "
        f"UI CPU {result['cpu_per_s']:.2f} s/s  presses shown {len(lat)}, not shown in time {result['timeouts']}"
    )
    if "delivered" in result:
        print(
            f"  {'':<22} delivered {result['delivered']:,}  dropped {result['dropped']:,}  "
            f"left in buffer {result['pending']:,}"
        )


# -- start-up: process start to first frame -----------------------------------------


def child_first_frame(kind: str, started: float) -> None:
    """Run in a subprocess: print seconds from ``started`` to the first frames."""
    from textual.app import App
    from textual.widgets import Static

    if kind == "bare":
        class Bare(App):
            def compose(self):
                yield Static("hello")

            def post_display_hook(self) -> None:
                if self.screen.is_mounted and not getattr(self, "_done", False):
                    self._done = True
                    print(f"first {time.time() - started:.4f}", flush=True)
                    self.exit()

        Bare().run(headless=True, size=(120, 36))
        return

    from engine.host.engine import Engine

    workflow_dir = REPO / "sample_workflows"
    expected = len([p for p in workflow_dir.glob("*.py") if not p.name.startswith("_")])

    class Timed(FlowConsoleApp):
        first = None
        loaded = None

        def post_display_hook(self) -> None:
            if self.first is None and self._sidebar.is_mounted:
                self.first = time.time() - started
            if self.loaded is None and len(self.workflows_state.workflows) >= expected:
                self.loaded = time.time() - started
                print(f"first {self.first:.4f}", flush=True)
                print(f"loaded {self.loaded:.4f} ({len(self.workflows_state.workflows)} entries)", flush=True)
                self.exit()

    with tempfile.TemporaryDirectory() as state:
        engine = Engine(workflow_dir, state_dir=state)
        app = Timed(engine, start_engine=True)
        timer = threading.Timer(20.0, lambda: app.call_from_thread(app.exit))
        timer.start()
        try:
            app.run(headless=True, size=(120, 36))
        finally:
            timer.cancel()
            app.wait_engine_started()
            engine.stop()
        if app.loaded is None:
            print(f"first {app.first if app.first is not None else float('nan'):.4f}", flush=True)
            print("loaded never (timed out after 20 s)", flush=True)


def first_frames(samples: int) -> None:
    print(f"\nProcess start to first frame ({samples} samples each; started in a subprocess, headless):")
    results: dict[str, list[float]] = {"bare": [], "console": [], "loaded": []}
    for _ in range(samples):
        for kind in ("bare", "console"):
            started = time.time()
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, repr(started)],
                capture_output=True, text=True, timeout=120, cwd=REPO,
            )
            for line in out.stdout.splitlines():
                name, _, rest = line.partition(" ")
                value = rest.split()[0]
                if value != "never":
                    results["bare" if kind == "bare" else ("console" if name == "first" else "loaded")].append(float(value))
            if out.returncode != 0:
                print(f"  {kind} child failed: {out.stderr.strip().splitlines()[-1:]}")
    for name, label in (("bare", "bare Textual 8 app"), ("console", "flowconsole first frame"),
                        ("loaded", "flowconsole, samples loaded")):
        values = results[name]
        if values:
            print(f"  {label:<30} median {statistics.median(values):.3f} s  min {min(values):.3f}  "
                  f"max {max(values):.3f}  samples {', '.join(f'{v:.3f}' for v in values)}")
        else:
            print(f"  {label:<30} no sample")
    if results["bare"] and results["console"]:
        ratio = statistics.median(results["console"]) / statistics.median(results["bare"])
        print(f"  ratio flowconsole first frame / bare Textual: {ratio:.2f}x")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_first_frame(sys.argv[2], float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer samples")
    parser.add_argument("--rate", type=int, default=20_000, help="events per second to publish")
    parser.add_argument("--seconds", type=float, default=None, help="seconds of flood per approach")
    parser.add_argument("--idle-seconds", type=float, default=None, help="measured seconds per process in part 3")
    parser.add_argument("--only-idle", action="store_true", help="run part 3 (idle CPU per view) alone")
    args = parser.parse_args()
    idle_seconds = args.idle_seconds or (20.0 if args.quick else 60.0)
    if args.only_idle:
        idle_cpu(idle_seconds, all_views())
        return
    seconds = args.seconds or (4.0 if args.quick else 10.0)
    presses = 20 if args.quick else 50
    samples = 3 if args.quick else 5
    print(f"flowconsole console benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"\nKey press to frame under a flood of {args.rate:,} events/s for {seconds:.0f} s, {presses} presses:")
    bridge = asyncio.run(measure("bridge", args.rate, seconds, presses))
    report(bridge)
    # The peer falls behind without bound, so it gets a short window and a
    # 2 s cap per press (a press with no frame by then is counted, not timed).
    naive = asyncio.run(measure("one message per event", args.rate, min(seconds, 3.0), 6, press_timeout=2.0))
    report(naive)
    if bridge["latencies"] and naive["latencies"]:
        print(f"  ratio naive / bridge key latency p95: {pct(naive['latencies'], 95) / pct(bridge['latencies'], 95):.1f}x")
    elif not naive["latencies"]:
        print("  naive: no key press reached the screen within 2 s (the bridge showed every one)")
    p95 = pct(bridge["latencies"], 95)
    print(f"  target p95 <= 100 ms: {'met' if p95 <= 0.1 else 'MISSED'} ({p95 * 1000:.1f} ms)")
    first_frames(samples)
    idle_cpu(idle_seconds, all_views())


if __name__ == "__main__":
    main()
