"""The registry of named circuit breakers one runtime's workflows share.

Workflows that call the same downstream service ask for its breaker by name
(``get_or_create("payments", failure_threshold=3)``) and so share one; the
console lists them all and applies operator overrides by name.

Thread safety: ``_lock`` guards the name -> breaker dict; each breaker guards
its own state.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from .config import SETTINGS, BreakerConfigError
from .circuit import CircuitBreaker
from ...errors import FlowError
from .errors import BreakerNotFound

if TYPE_CHECKING:
    from ...runtime import Runtime

log = logging.getLogger("engine.breakers")


class BreakerRegistry:
    """Named breakers, created on first use and shared afterwards."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        if runtime is None:
            from ...runtime import current_runtime

            runtime = current_runtime()
        self.runtime = runtime
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def get_or_create(self, name: str, **config: Any) -> CircuitBreaker:
        """The breaker called ``name``, made with ``config`` the first time.

        Asked again with different settings (a reloaded workflow file), the
        existing breaker is reconfigured and keeps its state and counters.
        """
        if not isinstance(name, str) or not name:
            raise FlowError(f"a circuit breaker needs a non-empty name, got {name!r}")
        unknown = sorted(set(config) - set(SETTINGS))
        if unknown:
            raise BreakerConfigError(name, unknown[0], config[unknown[0]], "is not a setting")
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name=name, runtime=self.runtime, **config)
                self._breakers[name] = breaker
                return breaker
        changed = {k: v for k, v in config.items() if getattr(breaker, k, object()) != v}
        if changed:
            log.info("circuit breaker %r reconfigured: %s", name, sorted(changed))
            breaker.configure(**changed)
        return breaker

    def register(self, breaker: CircuitBreaker) -> CircuitBreaker:
        """Add a breaker made elsewhere; its name must be free."""
        with self._lock:
            existing = self._breakers.get(breaker.name)
            if existing is not None and existing is not breaker:
                raise FlowError(f"a different circuit breaker is already registered as {breaker.name!r}")
            self._breakers[breaker.name] = breaker
        return breaker

    def get(self, name: str) -> CircuitBreaker:
        """The breaker called ``name``; raises `BreakerNotFound`."""
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                raise BreakerNotFound(name, sorted(self._breakers))
        return breaker

    def all(self) -> list[CircuitBreaker]:
        """Every breaker, by name."""
        with self._lock:
            return [self._breakers[name] for name in sorted(self._breakers)]

    def snapshots(self) -> list[dict[str, Any]]:
        """`CircuitBreaker.snapshot` of every breaker, by name."""
        return [breaker.snapshot() for breaker in self.all()]

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._breakers

    def __len__(self) -> int:
        with self._lock:
            return len(self._breakers)

    def force_open(self, name: str, *, actor: str = "operator", reason: str | None = None) -> CircuitBreaker:
        """Reject every call through ``name`` until reset."""
        breaker = self.get(name)
        breaker.force_open(actor=actor, reason=reason)
        return breaker

    def force_closed(self, name: str, *, actor: str = "operator", reason: str | None = None) -> CircuitBreaker:
        """Admit every call through ``name`` until reset."""
        breaker = self.get(name)
        breaker.force_closed(actor=actor, reason=reason)
        return breaker

    def disable(self, name: str, *, actor: str = "operator", reason: str | None = None) -> CircuitBreaker:
        """Make ``name`` a plain pass-through until reset."""
        breaker = self.get(name)
        breaker.disable(actor=actor, reason=reason)
        return breaker

    def reset(self, name: str, *, actor: str = "operator", reason: str | None = None) -> CircuitBreaker:
        """Clear any override on ``name`` and close it."""
        breaker = self.get(name)
        breaker.reset(actor=actor, reason=reason)
        return breaker
