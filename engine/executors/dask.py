"""Beyond one machine: an `Executor` on a Dask distributed cluster.

`DaskExecutor` is a remote executor (``remote = True``): the DAG scheduler
sends it only a task's function and inputs, and keeps spans, events, timing,
retries, timeouts, fallbacks and dead letters in this process (see
`engine.dag.remote`); a `WorkerPool` given it sends each item's function.
``submit`` returns a `concurrent.futures.Future` that gets the work's result
or its exception, with their original types; Dask's `KilledWorker` (the
work killed ``distributed.scheduler.allowed-failures`` + 1 workers) arrives
as the exception of a failed attempt.

How work travels depends on where the workers are:

* Worker processes (a real cluster, or ``DaskExecutor.local()``): the call
  is pickled here with cloudpickle, so a function that cannot be sent fails
  at submission with `NotPicklableError`, naming the task.
* Workers in this process (``LocalCluster(processes=False)``: every worker
  address is ``inproc://``): the call stays in a table of this module and
  only its key travels, so closures over locks and events work as on
  threads; an exception comes back as the very object raised.

Dask is an optional extra (``flowconsole[dask]``); it is imported only when
an executor is made. `executor_from_spec` turns the ``--executor`` option
(``threads``, ``dask-local[:N]``, ``dask://HOST:PORT``) into an executor.

Threads: one collector thread per executor (``<name>-results``) takes
finished Dask futures from a `distributed.as_completed` and settles the
matching local futures; their done-callbacks run on it. ``_cond`` guards the
table of pending work and the closed flag. The in-process call table and
error table are plain dicts whose single operations are atomic.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from concurrent.futures import Future, InvalidStateError
from typing import Any, Callable

from .threads import ExecutorShutdownError
from .errors import DaskUnavailableError, ExecutorConnectError, ExecutorSpecError, NotPicklableError

log = logging.getLogger("engine.dask")

DEFAULT_LOCAL_WORKERS = 2

# In-process clusters: key -> (fn, args, kwargs) of work not yet settled, and
# key -> the exception it raised, until the collector hands it over.
_calls: dict[str, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {}
_errors: dict[str, BaseException] = {}


class _LocalFailure(Exception):
    """Stands in on Dask's side for an exception kept in this process."""


def _call_by_reference(key: str) -> Any:
    fn, args, kwargs = _calls[key]
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if key in _calls:
            _errors[key] = exc
        summary = f"{type(exc).__name__}: {exc}"
    # Raised outside the handler: Dask pickles the exception, and the
    # original (maybe not picklable) must not ride along as its context.
    raise _LocalFailure(summary)


def _call_pickled(blob: bytes) -> Any:
    import cloudpickle

    fn, args, kwargs = cloudpickle.loads(blob)
    return fn(*args, **kwargs)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise DaskUnavailableError(str(exc)) from exc
    return distributed


_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _label(fn: Callable[..., Any]) -> str:
    label = getattr(fn, "label", None)
    if not isinstance(label, str):
        label = getattr(fn, "__qualname__", None) or getattr(getattr(fn, "func", None), "__qualname__", None) or "call"
    return _UNSAFE.sub("_", label)[:60] or "call"


def _describe(fn: Callable[..., Any]) -> str:
    description = getattr(fn, "description", None)
    return description if isinstance(description, str) else f"{_label(fn)!r}"


class DaskExecutor:
    """An `Executor` whose work runs on a Dask distributed cluster.

    Wraps a ``distributed.Client``; `local` starts a `LocalCluster` and
    `connect` reaches an existing scheduler (the executor then closes what
    it opened on `shutdown`). ``max_workers`` is the cluster's thread count
    when the executor was made; ``in_process`` tells whether its workers live
    in this process (see the module docstring).
    """

    remote = True

    def __init__(self, client: Any, *, name: str = "dask", owns_client: bool = False, cluster: Any = None) -> None:
        distributed = _distributed()
        self.client = client
        self.name = name
        self._owns_client = owns_client
        self._cluster = cluster
        nthreads = client.nthreads()
        self.max_workers = max(1, sum(nthreads.values()))
        self.in_process = bool(nthreads) and all(str(a).startswith("inproc://") for a in nthreads)
        # Set while the cluster was last seen without workers: each submission
        # then asks again, and says so once per piece of work that will wait.
        self._no_workers = not nthreads
        if self._no_workers:
            log.warning("%s", self.stall_reason())
        self._completed = distributed.as_completed(loop=client.loop, with_results=True, raise_errors=False)
        self._cond = threading.Condition(threading.Lock())
        self._pending: dict[str, tuple[Future, Any]] = {}
        self._closed = False
        self._released = False
        self._thread = threading.Thread(target=self._collect, name=f"{name}-results", daemon=True)
        self._thread.start()

    @classmethod
    def local(
        cls,
        n_workers: int = DEFAULT_LOCAL_WORKERS,
        *,
        threads_per_worker: int = 1,
        processes: bool = True,
        name: str = "dask-local",
        **cluster_options: Any,
    ) -> DaskExecutor:
        """Start a `LocalCluster` (worker processes by default) and run on it."""
        distributed = _distributed()
        cluster_options.setdefault("dashboard_address", None)
        cluster = distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes, **cluster_options
        )
        client = None
        try:
            client = distributed.Client(cluster, set_as_default=False)
            return cls(client, name=name, owns_client=True, cluster=cluster)
        except BaseException:
            if client is not None:
                client.close()
            cluster.close()
            raise

    @classmethod
    def connect(cls, address: str, *, timeout: float = 10.0, name: str = "dask") -> DaskExecutor:
        """Run on the existing cluster whose scheduler listens at ``address``."""
        distributed = _distributed()
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorConnectError(address, f"{type(exc).__name__}: {exc}") from exc
        try:
            return cls(client, name=name, owns_client=True)
        except BaseException:
            client.close()
            raise

    # -- the Executor protocol ---------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` on the cluster; its outcome lands on the future.

        Cancelling the future cancels the work on the cluster (work already
        running there finishes; its result is dropped).
        """
        key = f"{_label(fn)}-{uuid.uuid4().hex}"
        if self._no_workers:
            self._warn_if_no_workers(fn)
        if self.in_process:
            call, arg = _call_by_reference, key
        else:
            call, arg = _call_pickled, self._pickle(fn, args, kwargs)
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise ExecutorShutdownError(f"executor {self.name!r}")
            if self.in_process:
                _calls[key] = (fn, args, kwargs)
            try:
                remote = self.client.submit(call, arg, key=key, pure=False)
            except Exception:
                _calls.pop(key, None)
                raise
            self._pending[key] = (future, remote)
            self._completed.add(remote)
            self._cond.notify_all()
        future.add_done_callback(lambda f: remote.cancel() if f.cancelled() else None)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Accept no more work; with ``wait``, return once pending work has settled.

        With ``cancel_futures`` pending work is cancelled on the cluster. The
        client and cluster this executor opened are closed once nothing is
        pending.
        """
        with self._cond:
            self._closed = True
            pending = [remote for _, remote in self._pending.values()]
            self._cond.notify_all()
        if cancel_futures:
            for remote in pending:
                remote.cancel()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        where = "in-process" if self.in_process else "processes"
        return f"DaskExecutor({self.name!r}, workers={self.max_workers}, {where})"

    def stall_reason(self) -> str | None:
        """``"the Dask cluster at ADDR has no workers ..."`` while it has none, else None."""
        if self.client.nthreads():
            return None
        return (
            f"the Dask cluster at {self._address()} has no workers: work waits until one joins "
            "(start one with 'dask worker ADDRESS')"
        )

    # -- internals ------------------------------------------------------------

    def _address(self) -> str:
        return str(getattr(self.client.scheduler, "address", None) or "?")

    def _warn_if_no_workers(self, fn: Callable[..., Any]) -> None:
        if self.client.nthreads():
            self._no_workers = False
            return
        log.warning("%s waits: the Dask cluster at %s has no workers", _describe(fn), self._address())

    def _pickle(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        import cloudpickle

        try:
            return cloudpickle.dumps((fn, args, kwargs))
        except Exception as exc:  # noqa: BLE001 - pickling fails with many types; all mean the same here
            raise NotPicklableError(_describe(fn), f"{type(exc).__name__}: {exc}") from exc

    def _collect(self) -> None:
        """The collector thread: settle local futures as Dask's finish."""
        cond = self._cond
        completed = self._completed
        while True:
            with cond:
                while not self._pending and not self._closed:
                    cond.wait()
                if not self._pending:
                    break
            try:
                batch = completed.next_batch(block=True)
            except StopIteration:
                continue
            for remote, outcome in batch:
                self._settle(remote, outcome)
        self._release()

    def _settle(self, remote: Any, outcome: Any) -> None:
        key = remote.key
        with self._cond:
            entry = self._pending.pop(key, None)
        _calls.pop(key, None)
        local_error = _errors.pop(key, None)
        if entry is None:
            return
        future = entry[0]
        status = remote.status
        try:
            if status == "finished":
                future.set_result(outcome)
            elif status == "error":
                _, exc, tb = outcome
                if isinstance(exc, _LocalFailure) and local_error is not None:
                    future.set_exception(local_error)
                else:
                    future.set_exception(exc.with_traceback(tb))
            else:
                future.cancel()
        except InvalidStateError:
            return  # cancelled by its owner meanwhile

    def _release(self) -> None:
        """Close the client and cluster this executor opened (once)."""
        if self._released:
            return
        self._released = True
        if self._owns_client:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - closing a lost connection may fail; nothing is left to save
                log.exception("executor %r: closing the Dask client failed", self.name)
        if self._cluster is not None:
            try:
                self._cluster.close()
            except Exception:  # noqa: BLE001 - as above
                log.exception("executor %r: closing the local Dask cluster failed", self.name)


def executor_from_spec(spec: str | None) -> DaskExecutor | None:
    """The executor named by ``spec``: None for ``threads`` (the default).

    ``dask-local`` starts a local cluster of two worker processes
    (``dask-local:N`` for N); ``dask://HOST:PORT`` (or ``tcp://``/``tls://``)
    connects to an existing scheduler.
    """
    text = (spec or "threads").strip()
    if text in ("threads", "thread"):
        return None
    match = re.fullmatch(r"dask-local(?::(\d+))?", text)
    if match:
        n = int(match.group(1) or DEFAULT_LOCAL_WORKERS)
        if n < 1:
            raise ExecutorSpecError(text)
        return DaskExecutor.local(n)
    match = re.fullmatch(r"(dask|tcp|tls)://([^\s/]+:\d+)/?", text)
    if match:
        scheme = "tcp" if match.group(1) == "dask" else match.group(1)
        return DaskExecutor.connect(f"{scheme}://{match.group(2)}")
    raise ExecutorSpecError(text)
