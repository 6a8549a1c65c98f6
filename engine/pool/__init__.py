"""A worker pool with priorities, work stealing, backpressure and futures.

Holds the pool (`worker_pool`), what a failed pool task means
(`failures`) and its errors (`errors`).
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.executors`,
`engine.observe`, `engine.resilience`.
"""

from .worker_pool import PoolConfigError, QueueFull, WorkerPool

__all__ = [
    "PoolConfigError",
    "QueueFull",
    "WorkerPool",
]
