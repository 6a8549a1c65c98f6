"""A worker pool with priorities, work stealing, backpressure and futures.

The basic API works: ``WorkerPool(num_workers)``, ``start()``,
``submit(func, priority=0, *args, **kwargs)``, ``wait()``, ``results``.
Beyond the basic API: a task that raises never hangs ``wait()`` (its exception is
kept on the `Future` that ``submit`` returns and published as
``pool.task.failed``); ``shutdown(wait=True, cancel_pending=False)`` and use as
a context manager leave no thread behind; an optional ``capacity`` makes
``submit`` block or raise `QueueFull`; failed tasks are retried by a
`RetryPolicy` (the backoff is a timer: no worker waits) and then dead-lettered
(source ``"pool"``). A `WorkerPool` is itself an `Executor`, so a DAG can run
on it. Retrying a dead-lettered pool task later is `engine.pool.failures`;
`QueueFull` and `PoolConfigError` are defined in
`engine.pool.errors` and importable from here.

Beyond one machine: given an ``executor`` (default: the one set by
`use_executor`, if any), each worker hands its item's function to that
executor and waits for the outcome, instead of calling it on the pool's
thread. Priorities, stealing, backpressure, retries and dead letters stay
in the pool; the workers' count bounds how much runs at once on the
executor. With a remote executor (Dask) the pool is ``remote`` too, so a
DAG on it sends only task functions.

Priorities and stealing. Each worker owns a queue (a heap ordered by
``(priority, sequence)``); ``submit`` puts work on the shortest queue (or the
one named by ``worker=``). A worker first finds the best priority at the head
of *any* queue. If its own head has that priority it takes it (FIFO among
equal priorities within a queue); otherwise it steals the head of the busiest
queue whose head has that priority. So a lower priority number is never
started while a higher-priority item waits anywhere, and an idle worker takes
work from the busiest queue. With one worker the order is exactly priority,
then submission order.

Thread safety: ``_cond`` (one condition) guards the queues, the counters and
the lifecycle flags; task functions run outside it.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
from concurrent.futures import CancelledError, Future
from typing import Any, Callable, Literal

from ..error_text import error_message
from ..events import Event
from ..executors.threads import Executor, ExecutorShutdownError, ThreadExecutor, TimerHandle, Timers, current_executor
from .errors import PoolConfigError, QueueFull
from .failures import _functions, _register_retrier, log
from ..resilience.retry import RetryPolicy
from ..runtime import Runtime, current_runtime
import traceback

OnFull = Literal["block", "raise"]
_names = itertools.count(1)


class _Item:
    __slots__ = (
        "func", "args", "kwargs", "future", "retry", "attempt", "context", "unit", "priority",
        "first_failure",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        future: Future,
        retry: RetryPolicy | None,
        context: contextvars.Context,
        priority: int,
    ) -> None:
        self.priority = priority
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.future = future
        self.retry = retry
        self.attempt = 1
        self.first_failure: float | None = None
        self.context = context
        self.unit = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', repr(func))}"


class WorkerPool:
    """Worker threads, each with its own priority queue, that steal from each other."""

    def __init__(
        self,
        num_workers: int = 4,
        *,
        capacity: int | None = None,
        on_full: OnFull = "block",
        submit_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        name: str | None = None,
        runtime: Runtime | None = None,
        executor: Executor | None = None,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 1:
            raise PoolConfigError(f"WorkerPool num_workers must be an integer >= 1, got {num_workers!r}")
        if capacity is not None and (not isinstance(capacity, int) or capacity < 1):
            raise PoolConfigError(f"WorkerPool capacity must be an integer >= 1 or None, got {capacity!r}")
        if on_full not in ("block", "raise"):
            raise PoolConfigError(f"WorkerPool on_full must be 'block' or 'raise', got {on_full!r}")
        self.num_workers = num_workers
        self.capacity = capacity
        self.on_full = on_full
        self.submit_timeout = submit_timeout
        self.retry = retry
        self.name = name or f"pool-{next(_names)}"
        self.runtime = runtime if runtime is not None else current_runtime()
        self.executor = executor if executor is not None else current_executor()
        self.results: list[Any] = []
        self._cond = threading.Condition(threading.Lock())
        self._queues: list[list[tuple[int, int, _Item]]] = [[] for _ in range(num_workers)]
        self._seq = itertools.count()
        self._placement = 0
        self._queued = 0
        self._busy = 0
        self._retrying = 0
        self._retry_timers: dict[_Item, TimerHandle] = {}
        self._unfinished = 0
        self.submitted = self.succeeded = self.failed = self.cancelled = 0
        self.steals = self.rejections = 0
        self._started = False
        self._stopping = False
        self._executor: ThreadExecutor | None = None
        self._timers = Timers(self.runtime.clock, name=f"{self.name}-timers")
        metrics = self.runtime.metrics
        labels = {"pool": self.name}
        self._depth_gauges = [
            metrics.gauge_series("pool.queue_depth", {**labels, "worker": i}) for i in range(num_workers)
        ]
        self._busy_gauge = metrics.gauge_series("pool.busy_workers", labels)
        self._metrics = metrics
        self._labels = labels
        _register_retrier(self.runtime)

    @property
    def max_workers(self) -> int:
        return self.num_workers

    @property
    def remote(self) -> bool:
        """Whether the work runs on a remote executor (see the module docstring)."""
        return bool(getattr(self.executor, "remote", False))

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> WorkerPool:
        """Start the worker threads (once; later calls do nothing)."""
        with self._cond:
            if self._stopping:
                raise ExecutorShutdownError(f"pool {self.name!r}")
            if self._started:
                return self
            self._started = True
            self._executor = ThreadExecutor(self.num_workers, name=self.name)
        for worker in range(self.num_workers):
            self._executor.submit(self._work, worker)
        self._emit("pool.started", {"workers": self.num_workers, "capacity": self.capacity})
        return self

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Accept no more work; workers finish what is queued (or it is cancelled).

        With ``wait`` this returns once every worker thread has ended.
        """
        cancelled: list[_Item] = []
        with self._cond:
            already = self._stopping
            self._stopping = True
            waiting_retry: list[_Item] = []
            if cancel_pending:
                for queue in self._queues:
                    cancelled.extend(item for _, _, item in queue)
                    queue.clear()
                self._queued = 0
                for item, handle in self._retry_timers.items():
                    handle.cancel()
                    waiting_retry.append(item)
                self._retry_timers.clear()
                self._retrying = 0
            self._cond.notify_all()
            executor = self._executor
        for item in cancelled:
            item.future.cancel()
            self._finished(item, "cancelled")
        for item in waiting_retry:
            # Already running as far as its future knows: it cannot be
            # cancelled, so it ends with the reason it will never run again.
            item.future.set_exception(CancelledError(f"pool {self.name!r} shut down before retry"))
            self._finished(item, "cancelled")
        cancelled.extend(waiting_retry)
        if executor is not None:
            executor.shutdown(wait=wait)
        if wait or cancel_pending:
            self._timers.close()
        if not already:
            self._emit("pool.shutdown", {"cancelled": len(cancelled), "wait": wait})

    def __enter__(self) -> WorkerPool:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown(wait=True)

    # -- submitting --------------------------------------------------------------

    def submit(self, func: Callable[..., Any], priority: int = 0, *args: Any, **kwargs: Any) -> Future:
        """Queue ``func(*args, **kwargs)``; lower ``priority`` runs first. Returns its future."""
        return self.submit_with(func, args, kwargs, priority=priority)

    def submit_with(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        priority: int = 0,
        worker: int | None = None,
        block: bool | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> Future:
        """`submit` with every option explicit (none can clash with ``func``'s keywords).

        ``worker`` places the work on that worker's queue; ``block`` and
        ``timeout`` override the pool's backpressure settings for this call.
        """
        if not callable(func):
            raise PoolConfigError(f"pool {self.name!r}: {func!r} is not callable")
        if worker is not None and not 0 <= worker < self.num_workers:
            raise PoolConfigError(f"pool {self.name!r} has no worker {worker!r} (0..{self.num_workers - 1})")
        block = (self.on_full == "block") if block is None else block
        timeout = self.submit_timeout if timeout is None else timeout
        item = _Item(func, args, kwargs or {}, Future(), retry or self.retry, contextvars.copy_context(), priority)
        with self._cond:
            if self._stopping:
                raise ExecutorShutdownError(f"pool {self.name!r}")
            capacity = self.capacity
            if capacity is not None and self._queued >= capacity:
                if block:
                    self._cond.wait_for(lambda: self._queued < capacity or self._stopping, timeout)
                    if self._stopping:
                        raise ExecutorShutdownError(f"pool {self.name!r}")
                if self._queued >= capacity:
                    self.rejections += 1
                    rejected = True
                else:
                    rejected = False
            else:
                rejected = False
            if not rejected:
                self.submitted += 1
                self._unfinished += 1
                self._enqueue(item, priority, worker)
        if rejected:
            self._metrics.increment("pool.rejections", 1, self._labels)
            self._emit("pool.task.rejected", {"unit": item.unit, "capacity": capacity, "priority": priority})
            raise QueueFull(self.name, capacity, timeout if block else None)
        return item.future

    def _enqueue(self, item: _Item, priority: int, worker: int | None) -> None:
        """Put ``item`` on a queue (holding ``_cond``)."""
        queues = self._queues
        if worker is None:
            shortest = min(len(q) for q in queues)
            n = self.num_workers
            start = self._placement
            worker = next(i % n for i in range(start, start + n) if len(queues[i % n]) == shortest)
            self._placement = (worker + 1) % n
        heapq.heappush(queues[worker], (priority, next(self._seq), item))
        self._queued += 1
        self._depth_gauges[worker].set(len(queues[worker]))
        self._cond.notify()

    # -- waiting -----------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        """Block until everything submitted has finished, failed or been cancelled.

        Starts the pool if it was not started. False if ``timeout`` passed first.
        """
        if not self._started and not self._stopping:
            self.start()
        with self._cond:
            return self._cond.wait_for(lambda: self._unfinished == 0, timeout)

    def stats(self) -> dict[str, Any]:
        """Queue depth per worker, busy workers, steals, rejections and task counts."""
        with self._cond:
            return {
                "pool": self.name,
                "workers": self.num_workers,
                "queue_depths": [len(q) for q in self._queues],
                "busy": self._busy,
                "retrying": self._retrying,
                "steals": self.steals,
                "rejections": self.rejections,
                "submitted": self.submitted,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "cancelled": self.cancelled,
            }

    # -- the workers -------------------------------------------------------------

    def _take(self, worker: int) -> _Item | None:
        """The next item for ``worker`` (holding ``_cond``): see the module docstring."""
        queues = self._queues
        best = None
        for queue in queues:
            if queue and (best is None or queue[0][0] < best):
                best = queue[0][0]
        if best is None:
            return None
        own = queues[worker]
        source = worker
        if not own or own[0][0] != best:
            source = max(
                (i for i, q in enumerate(queues) if q and q[0][0] == best), key=lambda i: len(queues[i])
            )
            self.steals += 1
        item = heapq.heappop(queues[source])[2]
        self._queued -= 1
        self._depth_gauges[source].set(len(queues[source]))
        return item

    def _work(self, worker: int) -> None:
        cond = self._cond
        while True:
            with cond:
                stole = self.steals
                item = self._take(worker)
                while item is None:
                    if self._stopping and self._retrying == 0:
                        return
                    cond.wait()
                    stole = self.steals
                    item = self._take(worker)
                stolen = self.steals != stole
                self._busy += 1
                self._busy_gauge.set(self._busy)
                cond.notify_all()  # a blocked submitter may now have room
            if stolen:
                self._metrics.increment("pool.steals", 1, self._labels)
            self._run(item, worker)
            with cond:
                self._busy -= 1
                self._busy_gauge.set(self._busy)

    def _run(self, item: _Item, worker: int) -> None:
        future = item.future
        if item.attempt == 1 and not future.set_running_or_notify_cancel():
            self._finished(item, "cancelled")
            return
        try:
            if self.executor is None:
                result = item.context.run(item.func, *item.args, **item.kwargs)
            else:
                result = self.executor.submit(item.func, *item.args, **item.kwargs).result()
        except Exception as exc:  # noqa: BLE001 - kept on the future, published, maybe retried
            self._failed_attempt(item, exc, worker)
            return
        future.set_result(result)
        with self._cond:
            self.results.append(result)
        self._finished(item, "succeeded")

    def _finished(self, item: _Item, how: str) -> None:
        with self._cond:
            setattr(self, how, getattr(self, how) + 1)
            self._unfinished -= 1
            if self._unfinished == 0 or self._stopping:
                self._cond.notify_all()

    def _emit(self, event_type: str, data: dict[str, Any]) -> None:
        self.runtime.bus.publish(Event(event_type, {"pool": self.name, **data}, workflow=self.name))

    def __repr__(self) -> str:
        return f"WorkerPool({self.name!r}, workers={self.num_workers})"

    # -- what a failed task means: another attempt on a timer, or a dead letter ----

    def _failed_attempt(self, item: _Item, exc: Exception, worker: int) -> None:
        if item.first_failure is None:
            item.first_failure = self.runtime.clock.time()
        policy = item.retry
        data = {"unit": item.unit, "attempt": item.attempt, "worker": worker,
                "error_type": type(exc).__name__, "error": error_message(exc)}
        if policy is not None and policy.should_retry(exc, item.attempt):
            delay = policy.delay(item.attempt)
            with self._cond:
                self._retrying += 1
            self._emit("pool.task.retrying", {**data, "delay": delay})
            item.attempt += 1
            try:
                with self._cond:
                    self._retry_timers[item] = self._timers.call_later(delay, lambda: self._requeue(item))
                return
            except ExecutorShutdownError:
                with self._cond:
                    self._retrying -= 1
        self._emit("pool.task.failed", {**data, "traceback": "".join(traceback.format_exception(exc))})
        _functions[item.unit] = item.func
        try:
            self.runtime.dlq.add(
                source="pool", unit=item.unit, error=exc,
                payload={"args": list(item.args), "kwargs": dict(item.kwargs)},
                workflow=self.name, attempts=item.attempt, first_failure=item.first_failure,
            )
        except Exception:  # noqa: BLE001 - a broken queue must not lose the failure on the future
            log.exception("pool %r: could not dead-letter %s", self.name, item.unit)
        item.future.set_exception(exc)
        self._finished(item, "failed")

    def _requeue(self, item: _Item) -> None:
        with self._cond:
            if self._retry_timers.pop(item, None) is None:
                return  # cancelled by shutdown(cancel_pending=True)
            self._retrying -= 1
            self._enqueue(item, item.priority, None)

