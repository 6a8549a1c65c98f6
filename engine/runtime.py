"""The runtime: the shared services one engine's workflows publish into.

A `Runtime` bundles the event bus, the clock and the services built on them
(tracer, metrics, dead-letter queue, breaker registry). Workflow objects take
one explicitly (``runtime=``) or use the *current* runtime, held in a
`contextvars.ContextVar`: the loader sets it while a workflow file builds its
workflows, so objects created there report to that engine's bus; code that
never sets one shares a process default, which is what the basic API's examples
get.

``_lock`` guards the lazy construction of the services, so two threads asking
for ``runtime.tracer`` at once get the same tracer. The runtime sits below the
rooms whose services it hands out: `engine.observe` and `engine.resilience`
register a factory for each service (`register_service`) when imported.
The metrics collector is made with the runtime (unless
``engine_metrics=False``), because the engine's metrics are derived from events
as they are published, and a collector made at its first read would never
count what came before.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

from .bus.event_bus import EventBus
from .clock import SYSTEM_CLOCK, Clock
from .errors import FlowError
from .local_only import LocalOnly

if TYPE_CHECKING:
    from .resilience.breaker import BreakerRegistry
    from .resilience.dlq.queue import DeadLetterQueue
    from .observe.metrics import MetricsCollector
    from .observe.tracing import Tracer


class UnknownServiceError(FlowError, LookupError):
    """A runtime was asked for a service no room has registered a factory for."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no runtime service {name!r} (registered: {', '.join(known) or 'none'})")
        self.name = name
        self.known = known


# The rooms that hold the runtime's services register how to build them
# (`register_service`) when they are imported, so the runtime never imports
# the layers above it. ``_factories_lock`` guards ``_factories``.
_factories_lock = threading.Lock()
_factories: dict[str, Callable[[Runtime], Any]] = {}


def register_service(name: str, factory: Callable[[Runtime], Any]) -> None:
    """Build the service ``name`` of each runtime with ``factory(runtime)`` on first use."""
    with _factories_lock:
        _factories[name] = factory


class _Entry(NamedTuple):
    """A registered definition and its generation (1 for the first)."""

    definition: Any
    generation: int


class DefinitionTable:
    """The workflow definitions currently loaded, by name.

    The loader registers each new version here; a dead letter's retry looks
    up the *current* definition of its workflow, so a fix made in a workflow
    file applies to the retry. ``_lock`` guards ``_entries``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, definition: Any) -> int:
        """Make ``definition`` the current version of ``name``; returns its generation."""
        with self._lock:
            generation = self._generation_locked(name) + 1
            self._entries[name] = _Entry(definition, generation)
            return generation

    def unregister(self, name: str) -> None:
        """Forget ``name`` (no error if it was not registered)."""
        with self._lock:
            self._entries.pop(name, None)

    def get(self, name: str) -> Any | None:
        """The current definition of ``name``, or None."""
        with self._lock:
            entry = self._entries.get(name)
        return entry.definition if entry else None

    def generation(self, name: str) -> int:
        """The generation of the current definition of ``name`` (0: none)."""
        with self._lock:
            return self._generation_locked(name)

    def _generation_locked(self, name: str) -> int:
        """`generation` for a caller that holds ``_lock``."""
        entry = self._entries.get(name)
        return entry.generation if entry else 0

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        with self._lock:
            return sorted(self._entries)


class Runtime(LocalOnly):
    """The bus, clock and shared services of one engine.

    ``definitions`` holds the workflow definitions currently loaded.
    ``engine_metrics=False``: no built-in metrics are derived until
    ``runtime.metrics`` is first used (a runtime that only replays or checks).
    It lives in the engine's process: sending it to a remote worker raises
    `engine.local_only.LocalOnlyError`, which says what to do instead.
    """

    def _local_only_name(self) -> str:
        return "the engine's runtime"

    def __init__(
        self,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        *,
        event_store_size: int = 10_000,
        engine_metrics: bool = True,
    ) -> None:
        self.bus = bus if bus is not None else EventBus(
            enable_event_sourcing=True, store_size=event_store_size
        )
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._services: dict[str, Any] = {}
        self.definitions = DefinitionTable()
        if engine_metrics:
            self.metrics  # made now, so that it counts from the first event

    def service(self, name: str) -> Any:
        """The service ``name``, built on first use by the factory registered for it."""
        service = self._services.get(name)
        if service is None:
            with _factories_lock:
                factory = _factories.get(name)
            if factory is None:
                raise UnknownServiceError(name, sorted(_factories))
            with self._lock:
                service = self._services.get(name)
                if service is None:
                    service = self._services[name] = factory(self)
        return service

    @property
    def tracer(self) -> Tracer:
        """The tracer whose finished spans are published on this bus."""
        return self.service("tracer")

    @property
    def metrics(self) -> MetricsCollector:
        """The metrics collector fed by this runtime's workflows."""
        return self.service("metrics")

    @property
    def dlq(self) -> DeadLetterQueue:
        """The dead-letter queue exhausted units of work land in."""
        return self.service("dlq")

    @property
    def breakers(self) -> BreakerRegistry:
        """The named circuit breakers shared by this runtime's workflows."""
        return self.service("breakers")

    def installed(self, name: str) -> Any | None:
        """The service built or installed under ``name`` so far, or None."""
        with self._lock:
            return self._services.get(name)

    def install(self, name: str, service: Any) -> None:
        """Use ``service`` for ``name`` (``"tracer"``, ``"dlq"``...) from now on."""
        with self._lock:
            self._services[name] = service


_default_lock = threading.Lock()
_default: Runtime | None = None
_current: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar(
    "flowconsole_runtime", default=None
)


def context_runtime() -> Runtime | None:
    """The runtime set for this context (by `use_runtime`), or None where none is."""
    return _current.get()


def current_runtime() -> Runtime:
    """The runtime set for this context, or the process default."""
    runtime = _current.get()
    if runtime is not None:
        return runtime
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Runtime()
    return _default


@contextlib.contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make ``runtime`` the current one inside the ``with`` block."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)
