"""Objects that live in the engine's process, and the error for sending one away.

The runtime, its event bus and a circuit breaker hold the engine's shared
state (subscribers, counts, a breaker's window) behind locks. A copy on a
remote worker (a Dask worker process) would count alone and publish where
nobody listens, so they refuse to be pickled, and the refusal says what to
do instead: run the task that uses them in the engine's process
(``add_task(..., local=True)``), or hand the task the plain values it needs.
"""

from __future__ import annotations

from typing import Any, NoReturn

from .errors import FlowError


class LocalOnlyError(FlowError, TypeError):
    """An object that lives in the engine's process was sent to a remote worker."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} lives in the engine's process and cannot be sent to a remote worker: "
            "run the task that uses it in the engine with add_task(..., local=True), "
            "or give the task the plain values it needs instead (e.g. runtime.clock, not the runtime)"
        )
        self.what = what


class LocalOnly:
    """Mixin: pickling the object raises `LocalOnlyError` naming it (``_local_only_name``)."""

    __slots__ = ()

    def _local_only_name(self) -> str:
        return f"the {type(self).__name__}"

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise LocalOnlyError(self._local_only_name())
