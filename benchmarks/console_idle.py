"""Idle CPU of the console per view, against the same engine headless.

Each run is a real process on ``sample_workflows`` with a fresh state
directory: the console in a pseudo-terminal (140x40, its output read and
thrown away as a terminal would), on one view; the peer is
``flowconsole run sample_workflows --watch`` (the engine alone, events to
/dev/null). After a warm-up (start-up and the first runs are not idle), the
process's user+system CPU time over ``seconds`` of wall time is read from
/proc, as a share of one core. Runs go one after another, so they do not
compete with each other for the cores (other work on the machine can).

Used by ``benchmarks/console.py`` (part 3); runs alone too:

    python benchmarks/console_idle.py [--seconds S] [--views dag,events]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "flowconsole"
WARM_UP = 8.0
# Goal of issue 19: at most this share of a core beyond the headless engine's own.
GOAL = 0.03
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _command(view_key: str | None, state: str) -> list[str]:
    if view_key is None:
        return [str(SCRIPT), "run", "sample_workflows", "--watch", "--state-dir", state]
    return [str(SCRIPT), "sample_workflows", "--state-dir", state]


def measure(view_key: str | None, seconds: float) -> float:
    """Share of a core the process used over ``seconds`` after the warm-up."""
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    with tempfile.TemporaryDirectory() as state:
        if view_key is None:
            process = subprocess.Popen(
                _command(None, state), cwd=REPO, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            try:
                time.sleep(WARM_UP)
                start = cpu_seconds(process.pid)
                time.sleep(seconds)
                return (cpu_seconds(process.pid) - start) / seconds
            finally:
                process.terminate()
                process.wait(timeout=30)
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        process = subprocess.Popen(
            _command(view_key, state), cwd=REPO, env=env,
            stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True,
        )
        os.close(secondary)
        try:
            _drain(primary, WARM_UP / 2)
            os.write(primary, view_key.encode())
            _drain(primary, WARM_UP / 2)
            start = cpu_seconds(process.pid)
            _drain(primary, seconds)
            return (cpu_seconds(process.pid) - start) / seconds
        finally:
            os.write(primary, b"q")
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            os.close(primary)


def _drain(fd: int, seconds: float) -> None:
    """Read what the console draws for ``seconds``, as a terminal would."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def idle_cpu(seconds: float, views: list[tuple[str, str]]) -> None:
    """Print each view's CPU share, the headless engine's, and the difference."""
    print(f"\nIdle CPU over {seconds:.0f} s on sample_workflows (share of one core; {load_average()} at start):")
    headless = measure(None, seconds)
    print(f"  {'headless engine (run --watch)':<32} {headless * 100:5.1f}%")
    worst = 0.0
    for key, alias in views:
        share = measure(key, seconds)
        extra = share - headless
        worst = max(worst, extra)
        print(f"  {'console, view ' + alias:<32} {share * 100:5.1f}%   beyond headless {extra * 100:+5.1f}%")
    print(f"  goal <= {GOAL * 100:.0f}% of a core beyond headless on every view: "
          f"{'met' if worst <= GOAL else 'MISSED'} (worst {worst * 100:+.1f}%; {load_average()} at the end)")


def all_views() -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO))
    from console.views import VIEWS

    return [(view.key, view.alias) for view in VIEWS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per process")
    parser.add_argument("--views", default="", help="comma-separated view aliases (default: every view)")
    args = parser.parse_args()
    views = all_views()
    if args.views:
        wanted = set(args.views.split(","))
        views = [v for v in views if v[1] in wanted]
    idle_cpu(args.seconds, views)


if __name__ == "__main__":
    main()
