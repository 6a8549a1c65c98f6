"""Where units of work run: the `Executor` abstraction, threads, timers, Dask.

Holds the thread executor and its timers (`threads`) and the Dask cluster
executor (`dask`). May import: the kernel (`engine.errors`, `engine.clock`).
"""

from .threads import (
    Executor,
    ExecutorShutdownError,
    ThreadExecutor,
    Timers,
    current_executor,
    use_executor,
)
from .dask import (
    DaskExecutor,
    DaskUnavailableError,
    ExecutorConnectError,
    ExecutorSpecError,
    NotPicklableError,
    executor_from_spec,
)

__all__ = [
    "DaskExecutor",
    "DaskUnavailableError",
    "Executor",
    "ExecutorConnectError",
    "ExecutorShutdownError",
    "ExecutorSpecError",
    "NotPicklableError",
    "ThreadExecutor",
    "Timers",
    "current_executor",
    "executor_from_spec",
    "use_executor",
]
