"""Ctrl+C during ``flowconsole run``: say what is still running, and let a second one force the exit.

A first SIGINT (or, under ``--watch``, SIGTERM) stops the command the
graceful way: no new run starts and the engine waits for the work in
flight. That can take as long as the slowest task, so the command says
what it waits for (each task or step still running, and for how long) and
how to force it. A second SIGINT exits at once, with code 130: work that
the store had committed stays, and with ``--state-dir`` the interrupted
runs resume on the next start, as recovery after a crash does.

What is in flight is followed from the engine's events (``task.started``
until the task's outcome, ``saga.step.started`` until the step's). The
bus calls `InFlight.on_event` from many threads; ``_lock`` guards
``_running``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any, Callable

from engine import Event
from engine.visible_text import json_escaped, visible

_TASK_ENDS = frozenset({"task.completed", "task.failed", "task.retrying", "task.skipped", "task.fallback"})
_STEP_ENDS = frozenset({"saga.step.completed", "saga.step.failed"})


class InFlight:
    """The tasks and saga steps started and not yet finished, from the bus."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._running: dict[tuple[str | None, str | None, str], float] = {}

    def on_event(self, event: Event) -> None:
        kind = event.type
        if kind == "task.started" or kind in _TASK_ENDS:
            key = (event.workflow, event.run_id, f"task {event.data.get('task')}")
        elif kind == "saga.step.started" or kind in _STEP_ENDS:
            key = (event.workflow, event.run_id, f"step {event.data.get('step')}")
        else:
            return
        with self._lock:
            if kind.endswith(".started"):
                self._running[key] = self._monotonic()
            else:
                self._running.pop(key, None)

    def describe(self) -> list[str]:
        """``workflow: task T (run R, running Ns)`` for each, oldest first."""
        now = self._monotonic()
        with self._lock:
            items = sorted(self._running.items(), key=lambda item: item[1])
        return [
            f"{workflow or '-'}: {what} (run {run_id or '-'}, running {now - since:.0f}s)"
            for (workflow, run_id, what), since in items
        ]


class Interrupts:
    """Installs the SIGINT handler of ``flowconsole run`` (main thread only)."""

    def __init__(self, in_flight: InFlight, *, as_json: bool, state_dir: Any) -> None:
        self.in_flight = in_flight
        self.as_json = as_json
        self.state_dir = state_dir
        self.stop = threading.Event()
        self._raise_on_first = True
        self._count = 0

    def install(self, *, watch: bool) -> None:
        """Handle SIGINT (and SIGTERM under ``--watch``, which waits for it)."""
        self._raise_on_first = not watch
        signal.signal(signal.SIGINT, self._on_signal)
        if watch:
            signal.signal(signal.SIGTERM, self._on_signal)

    @property
    def interrupted(self) -> bool:
        """Whether a signal has come."""
        return self._count > 0

    def wait(self) -> None:
        """Block until the first signal (``--watch``)."""
        while not self.stop.wait(0.5):
            continue

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._count += 1
        if self._count > 1:
            self._say("interrupted again: exiting now", [])
            os._exit(130)
        self.stop.set()
        running = self.in_flight.describe()
        if running:
            self._say("stopping; waiting for what is still running (press ctrl+c again to exit now)", running)
        if self._raise_on_first:
            raise KeyboardInterrupt

    def _resume_hint(self) -> str:
        if self.state_dir is None:
            return "without --state-dir nothing of these runs is kept"
        return f"the interrupted runs resume on the next start with --state-dir {self.state_dir}"

    def _say(self, message: str, running: list[str]) -> None:
        # Straight to the file descriptor: a signal handler that wrote through
        # sys.stderr while the interrupted code was writing there would make
        # a reentrant call on the same buffer.
        hint = self._resume_hint()
        if self.as_json:
            line = json.dumps({"type": "cli.stopping", "data": {"message": message, "running": running, "resume": hint}})
            _write(sys.__stdout__, json_escaped(line) + "\n")
            return
        lines = [f"flowconsole run: {message}"]
        lines += [f"  still running: {visible(item)}" for item in running]
        lines.append(f"  ({hint})")
        _write(sys.__stderr__, "\n".join(lines) + "\n")


def _write(stream: Any, text: str) -> None:
    try:
        os.write(stream.fileno(), text.encode("utf-8", "replace"))
    except (OSError, ValueError):
        return  # no terminal left to tell
