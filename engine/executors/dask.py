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
finished Dask futures from a `distributed.as_completed` in batches, gathers
their results in one round trip and settles the matching local futures;
their done-callbacks run on it, inside `batched`, so the work they submit
goes to the cluster together. ``_batch`` (thread-local) holds the work a
thread has submitted inside `batched` and not yet sent. ``_cond`` guards the
table of pending work and the closed flag. The in-process call table and
error table are plain dicts whose single operations are atomic.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from typing import Any, Callable, Iterator

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
        self._completed = distributed.as_completed(loop=client.loop)
        self._cond = threading.Condition(threading.Lock())
        self._pending: dict[str, tuple[Future, Any]] = {}
        self._closed = False
        self._released = False
        self._batch = threading.local()
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
        running there finishes; its result is dropped). Inside `batched`
        the work is sent when the block ends, together with the rest.
        """
        key = f"{_label(fn)}-{uuid.uuid4().hex}"
        if self._no_workers:
            self._warn_if_no_workers(fn)
        if self._closed:
            raise ExecutorShutdownError(f"executor {self.name!r}")
        arg = key if self.in_process else self._pickle(fn, args, kwargs)
        future: Future = Future()
        work = (key, arg, future, (fn, args, kwargs))
        buffer = getattr(self._batch, "buffer", None)
        if buffer is not None:
            buffer.append(work)
            return future
        self._send([work], raise_errors=True)
        return future

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Send the work this thread submits inside the block to Dask at once, when it ends.

        One ``update-graph`` for many tasks instead of one each: Dask's
        scheduler pays per message, which made a task sent alone cost
        about twice one sent by ``client.map``. Nested blocks send with the
        outermost.
        """
        if getattr(self._batch, "buffer", None) is not None:
            yield
            return
        self._batch.buffer = buffer = []
        try:
            yield
        finally:
            self._batch.buffer = None
            if buffer:
                self._send(buffer, raise_errors=False)

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

    def _send(self, work: list[tuple[str, Any, Future, tuple[Any, ...]]], *, raise_errors: bool) -> None:
        """Hand ``work`` to the cluster in one ``client.map``.

        A failure to send raises with ``raise_errors`` (a single `submit`),
        else lands on each future (work buffered by `batched`, whose
        submitters have already returned).
        """
        call = _call_by_reference if self.in_process else _call_pickled
        keys = [key for key, _, _, _ in work]
        try:
            with self._cond:
                if self._closed:
                    raise ExecutorShutdownError(f"executor {self.name!r}")
                if self.in_process:
                    for key, _, _, work_call in work:
                        _calls[key] = work_call
                try:
                    remotes = self.client.map(call, [arg for _, arg, _, _ in work], key=keys, pure=False)
                except Exception:
                    for key in keys:
                        _calls.pop(key, None)
                    raise
                for (key, _, future, _), remote in zip(work, remotes):
                    self._pending[key] = (future, remote)
                self._completed.update(remotes)
                self._cond.notify_all()
        except Exception as exc:
            if raise_errors:
                raise
            for _, _, future, _ in work:
                if future.set_running_or_notify_cancel():
                    future.set_exception(exc)
            return
        for (_, _, future, _), remote in zip(work, remotes):
            future.add_done_callback(lambda f, r=remote: r.cancel() if f.cancelled() else None)

    def _collect(self) -> None:
        """The collector thread: settle local futures as Dask's finish.

        Finished futures come in batches; their results are fetched with one
        ``gather`` per batch (not one round trip each), and the work their
        done-callbacks submit (the tasks they made ready) is sent as one batch.
        """
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
            with self.batched():
                for remote, how, value in self._outcomes(batch):
                    self._settle(remote, how, value)
        self._release()

    def _outcomes(self, batch: list[Any]) -> list[tuple[Any, str, Any]]:
        """Each finished Dask future with ``"result"``, ``"error"`` or ``"cancelled"`` and its value."""
        finished = [remote for remote in batch if remote.status == "finished"]
        results: dict[str, Any] = {}
        if finished:
            try:
                results = dict(zip((r.key for r in finished), self.client.gather(finished, errors="raise")))
            except Exception:  # noqa: BLE001 - one lost result must not cost the others theirs
                results = {}
        out: list[tuple[Any, str, Any]] = []
        for remote in batch:
            if remote.key in results:
                out.append((remote, "result", results[remote.key]))
            elif remote.status == "cancelled":
                out.append((remote, "cancelled", None))
            else:
                try:
                    out.append((remote, "result", remote.result()))
                except BaseException as exc:  # noqa: BLE001 - the work's own failure, handed to its future
                    out.append((remote, "error", exc))
        return out

    def _settle(self, remote: Any, how: str, value: Any) -> None:
        key = remote.key
        with self._cond:
            entry = self._pending.pop(key, None)
        _calls.pop(key, None)
        local_error = _errors.pop(key, None)
        if entry is None:
            return
        future = entry[0]
        try:
            if how == "result":
                future.set_result(value)
            elif how == "error":
                future.set_exception(local_error if isinstance(value, _LocalFailure) and local_error is not None else value)
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
