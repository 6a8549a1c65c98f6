"""The engine a console attaches to: another process's, seen through its state directory.

`AttachedEngine` stands where a local `Engine` stands for the console: it has
a ``bus`` the bridge subscribes to, ``start``/``stop``, and the commands the
operator sends (`console.remote_commands`). Its events come from the store of
record: on open, `EventTail.opening_events` (the owner's workflows and the
newest events) are what the console first draws; then a thread of its own
polls the log every ``poll`` seconds and publishes what was committed on the
local bus, where the bridge coalesces it as it does a local engine's events.
The same thread derives the built-in metrics from those events (the metrics
view reads them) and checks every ``owner_poll`` seconds who owns the
directory: when the owner dies the console says so at once and keeps showing
the history; when a new owner starts it is picked up.

``_lock`` guards ``owner``, ``last_seen`` and ``error``; the UI reads them
through `attachment`, on its own timer, so the tail thread never calls into
the UI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine import Event, EventBus, MetricsCollector, Runtime
from engine.observe.engine_metrics import EngineMetrics
from engine.store import OwnerInfo, read_owner
from engine.store.schema import DB_NAME, check_database
from engine.store.tail import EventTail

log = logging.getLogger("console.attach")


@dataclass(frozen=True, slots=True)
class Attachment:
    """What the header says about the engine a console is attached to."""

    owner: OwnerInfo | None
    last_seen: float | None
    error: str | None = None

    @property
    def live(self) -> bool:
        return self.owner is not None

    def label(self) -> str:
        if self.owner is not None:
            return f"attached to {self.owner.label()}"
        if self.last_seen is not None:
            seen = time.strftime("%H:%M:%S", time.localtime(self.last_seen))
            return f"engine gone (last seen {seen})"
        return "no live engine"


class AttachedEngine:
    """A console's handle on the engine that owns ``state_dir`` (see the module docstring)."""

    def __init__(
        self,
        state_dir: str | Path,
        *,
        poll: float = 0.05,
        owner_poll: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = Path(state_dir)
        if not (self.state_dir / DB_NAME).is_file():
            raise FileNotFoundError(f"{self.state_dir}: no flowconsole state here (no {DB_NAME})")
        check_database(self.state_dir / DB_NAME)
        self.bus = EventBus()
        self._poll = poll
        self._owner_poll = owner_poll
        self._clock = clock
        self._tail = EventTail(self.state_dir)
        self._lock = threading.Lock()
        self.owner = read_owner(self.state_dir)
        self.last_seen: float | None = clock() if self.owner is not None else None
        self.error: str | None = None
        # Derived here from the owner's events, as `metrics_from_events` does for a stored log.
        derived = Runtime(engine_metrics=False)
        self.metrics = MetricsCollector(derived, engine_metrics=False)
        self._observe = EngineMetrics(derived, self.metrics, event_time=True).observe
        self.opening = self._tail.opening_events(owner_started=self.owner.started_at if self.owner else None)
        for event in self.opening:
            self._observe(event)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="flowconsole-attach", daemon=True)

    # -- the console's side -------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._tail.close()

    def attachment(self) -> Attachment:
        """Who the console is attached to now (cheap: read on every UI tick)."""
        with self._lock:
            return Attachment(self.owner, self.last_seen, self.error)

    def live_owner(self) -> OwnerInfo | None:
        with self._lock:
            return self.owner

    # -- the tail thread ----------------------------------------------------

    def _follow(self) -> None:
        next_owner_check = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_owner_check:
                next_owner_check = now + self._owner_poll
                self._check_owner()
            try:
                events = self._tail.poll()
                error = None
            except Exception as exc:  # noqa: BLE001 - one bad poll is shown, the console keeps following
                events, error = [], f"cannot read {self._tail.path}: {exc}"
                log.warning("%s", error)
            with self._lock:
                self.error = error
            for event in events:
                self._deliver(event)
            if not events or len(events) < self._tail.batch:
                self._stop.wait(self._poll)

    def _deliver(self, event: Event) -> None:
        try:
            self._observe(event)
        except Exception:  # noqa: BLE001 - a metric that cannot be derived must not hide the event
            log.exception("could not derive metrics from %s", event.type)
        self.bus.publish(event)

    def _check_owner(self) -> None:
        owner = read_owner(self.state_dir)
        with self._lock:
            if owner is not None:
                self.last_seen = self._clock()
            elif self.owner is not None:
                log.warning("engine %s stopped owning %s", self.owner.label(), self.state_dir)
            self.owner = owner
