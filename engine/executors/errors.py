"""The errors of `engine.executors`; each names the thing at fault."""

from __future__ import annotations

from ..errors import FlowError


class ExecutorShutdownError(FlowError, RuntimeError):
    """Work was submitted to an executor (or timer) that has been shut down."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} has been shut down; it accepts no more work")
        self.name = name


class DaskUnavailableError(FlowError, ImportError):
    """The Dask executor was asked for, but dask[distributed] is not installed."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the Dask executor needs dask[distributed]: pip install 'flowconsole[dask]' ({cause})")
        self.cause = cause


class NotPicklableError(FlowError, TypeError):
    """Work could not be sent to Dask's worker processes: it cannot be pickled."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"cannot send {what} to the Dask workers: it cannot be pickled ({reason})")
        self.what = what
        self.reason = reason


class ExecutorSpecError(FlowError, ValueError):
    """An executor was named in a form that is not understood."""

    def __init__(self, spec: str) -> None:
        super().__init__(
            f"executor {spec!r} is not understood: use 'threads', 'dask-local', 'dask-local:N' "
            "or 'dask://HOST:PORT'"
        )
        self.spec = spec


class ExecutorConnectError(FlowError, ConnectionError):
    """No Dask scheduler answered at the address given."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot reach the Dask scheduler at {address}: {reason}")
        self.address = address
        self.reason = reason
