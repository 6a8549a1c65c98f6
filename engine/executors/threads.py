"""Where units of work run: the executor abstraction and a clock-driven timer.

`Executor` is the small protocol the DAG scheduler and the worker pool run
work through: ``submit(fn, *args, **kwargs) -> concurrent.futures.Future``,
``shutdown(wait)`` and ``max_workers``. `ThreadExecutor` is the in-process
implementation; a distributed one (`engine.executors.dask.DaskExecutor`)
stands behind the same protocol without any change to workflow code. An
executor whose ``remote`` attribute is true runs work somewhere that cannot
see this process's bus, tracer or clock: the DAG scheduler then sends it only
a task's function and inputs, and keeps the span, the events, the timing and
every failure decision here. Every submission to a `ThreadExecutor` runs
inside a copy of the submitter's `contextvars` context, so the current span
and run id follow the work onto the worker thread.

`use_executor` sets the executor that DAG runs and worker pools use when
they were given none (a ContextVar, like the current runtime); the default,
None, is a pool of threads per run.

`Timers` runs callbacks at a time on the runtime's clock, on one thread of its
own, so waiting for a retry's backoff or a task's deadline never holds a
worker.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import logging
import threading
from concurrent.futures import Future
from contextlib import contextmanager
from queue import Empty, SimpleQueue
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from ..clock import Clock, SystemClock
from .errors import ExecutorShutdownError

log = logging.getLogger("engine.executor")


@runtime_checkable
class Executor(Protocol):
    """What the engine needs of a place to run work."""

    max_workers: int

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` eventually; its outcome lands on the future."""
        ...

    def shutdown(self, wait: bool = True) -> None:
        """Accept no more work; with ``wait``, return once running work is done."""
        ...


_current_executor: contextvars.ContextVar[Any] = contextvars.ContextVar("flowconsole_executor", default=None)


def current_executor() -> Executor | None:
    """The executor set by `use_executor` in this context (None: threads per run)."""
    return _current_executor.get()


@contextmanager
def use_executor(executor: Executor | None) -> Iterator[Executor | None]:
    """Make ``executor`` the default of DAG runs and pools started inside the block."""
    token = _current_executor.set(executor)
    try:
        yield executor
    finally:
        _current_executor.reset(token)


class ThreadExecutor:
    """An `Executor` of threads in this process.

    Each submission runs in ``contextvars.copy_context()`` taken at submit
    time, so spans and run ids set by the submitter are current in the work.
    Threads are started on demand, up to ``max_workers``, and take work from
    one `queue.SimpleQueue`. Besides ``submit``, ``run_soon(fn)`` runs a
    callable without a future, for callers (the DAG scheduler) that report
    outcomes themselves; its exceptions are logged.

    ``_lock`` guards the thread list, the idle and pending counts and the
    shutdown flag; the queue needs no lock of ours.
    """

    remote = False

    def __init__(self, max_workers: int = 4, *, name: str = "flowconsole") -> None:
        if not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"ThreadExecutor max_workers must be an integer >= 1, got {max_workers!r}")
        self.max_workers = max_workers
        self.name = name
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False
        self._idle = 0
        self._pending = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` on a worker thread in the caller's context."""
        future: Future = Future()
        self._put((future, contextvars.copy_context(), fn, args, kwargs))
        return future

    def run_soon(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on a worker thread in the caller's context, without a future."""
        self._put((None, contextvars.copy_context(), fn, (), None))

    def _put(self, item: tuple[Any, ...]) -> None:
        if self._shutdown:
            raise ExecutorShutdownError(f"executor {self.name!r}")
        self._queue.put(item)
        # A thread more only when the work waiting outnumbers the idle threads:
        # an idle thread may already be promised to earlier work (comparing
        # with the idle count alone starves long-running work of threads).
        with self._lock:
            self._pending += 1
            if (
                self._pending > self._idle
                and len(self._threads) < self.max_workers
                and not self._shutdown
            ):
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        get = self._queue.get
        lock = self._lock
        while True:
            with lock:
                self._idle += 1
            item = get()
            with lock:
                self._idle -= 1
                self._pending -= 1
            if item is None:
                return
            future, context, fn, args, kwargs = item
            if future is None:
                try:
                    context.run(fn)
                except (Exception, SystemExit):  # noqa: BLE001 - the caller reports its own outcomes; the worker lives on
                    log.exception("executor %r: work %r failed", self.name, fn)
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = context.run(fn, *args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - kept on the future
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Accept no more work; queued work still runs unless ``cancel_futures``."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except Empty:
                    break
                if item is not None and item[0] is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            current = threading.current_thread()
            for thread in threads:
                if thread is not current:
                    thread.join()

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown(wait=True)


class TimerHandle:
    """A scheduled callback; `cancel` stops it from running if it has not yet."""

    __slots__ = ("due", "callback", "advance", "cancelled")

    def __init__(self, due: float, callback: Callable[[], Any], advance: bool) -> None:
        self.due = due
        self.callback = callback
        self.advance = advance
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """Callbacks run at a time on a `Clock`, from one timer thread.

    With the system clock the thread waits on a condition until the earliest
    timer is due. With any other clock (a `FakeClock` in tests) waiting means
    ``clock.sleep``: a timer scheduled with ``advance=True`` (a backoff: the
    delay *is* the point) makes the clock jump to its due time at once, while a
    deadline (``advance=False``: a timeout, which must not expire just because
    nothing else is happening) fires only once something moves the clock past
    it; the thread checks every ``poll`` real seconds meanwhile.

    Callbacks run on the timer thread and must be quick (they hand work on,
    they do not do it); one that raises (or calls ``sys.exit``) is reported
    through ``on_error``, or logged when there is none or it fails too, and
    the thread goes on to the next timer. ``_cond`` guards the heap and the closed flag. The thread is started on
    the first schedule and stopped by `close`.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        name: str = "flowconsole-timers",
        poll: float = 0.005,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        self.clock = clock
        self.name = name
        self._real = isinstance(clock, SystemClock)
        self._poll = poll
        self._on_error = on_error
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._closed = False
        self._thread: threading.Thread | None = None

    def call_later(
        self, delay: float, callback: Callable[[], Any], *, advance: bool = True
    ) -> TimerHandle:
        """Run ``callback`` once ``delay`` seconds of clock time have passed."""
        handle = TimerHandle(self.clock.monotonic() + max(0.0, delay), callback, advance)
        with self._cond:
            if self._closed:
                raise ExecutorShutdownError(f"timers {self.name!r}")
            heapq.heappush(self._heap, (handle.due, next(self._seq), handle))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return handle

    @property
    def pending(self) -> int:
        """How many timers are scheduled and not cancelled."""
        with self._cond:
            return sum(1 for _, _, h in self._heap if not h.cancelled)

    def close(self, timeout: float | None = 5.0) -> None:
        """Drop every pending timer and stop the thread."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _next(self) -> TimerHandle | None:
        """Wait for the earliest due timer; None once closed. Holds ``_cond``."""
        heap = self._heap
        while True:
            while heap and heap[0][2].cancelled:
                heapq.heappop(heap)
            if self._closed:
                return None
            if not heap:
                self._cond.wait()
                continue
            handle = heap[0][2]
            remaining = handle.due - self.clock.monotonic()
            if remaining <= 0:
                heapq.heappop(heap)
                return handle
            if self._real:
                self._cond.wait(remaining)
            elif handle.advance:
                # A manual clock only moves when told to: sleeping on it jumps
                # straight to the due time. Release the lock while doing so.
                self._cond.release()
                try:
                    self.clock.sleep(remaining)
                finally:
                    self._cond.acquire()
                # The sleep was for this timer: it is due now, even if float
                # rounding left the clock a hair short of ``due`` (which would
                # otherwise spin forever on sleeps too small to move it).
                if heap and heap[0][2] is handle:
                    heapq.heappop(heap)
                    return handle
            else:
                self._cond.wait(self._poll)

    def _run(self) -> None:
        while True:
            with self._cond:
                handle = self._next()
            if handle is None:
                return
            if handle.cancelled:
                continue
            try:
                handle.callback()
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, the timer thread must live on
                self._report(handle, exc)

    def _report(self, handle: TimerHandle, exc: BaseException) -> None:
        if self._on_error is not None:
            try:
                self._on_error(exc)
                return
            except Exception:  # noqa: BLE001 - a failing reporter must not end the timer thread
                log.exception("reporting the failure of timer callback %r failed", handle.callback)
        log.error("timer callback %r failed", handle.callback, exc_info=exc)
