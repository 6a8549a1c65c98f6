"""Recording finished attempts without making workers wait on the run's lock.

`Settling` is the part of `engine.dag.run.DAGRun` that turns a finished
attempt into state: the attempt's outcome is appended to ``_outcomes`` (a
deque: appends need no lock) and recorded by whichever thread holds the
run's ``_lock`` next. Workers only ever *try* the lock; every holder of the
lock settles the queue after releasing it, so nothing queued is left behind
(`Settling._settle` says why nobody waits). Recording runs holding
``_lock``; ``_settling`` (guarded by it) keeps a thread from settling
re-entrantly from inside a subscriber.
"""

from __future__ import annotations

from typing import Any, Callable

from .model import AttemptOutcome, ReadyAttempt


class Settling:
    """Queueing and recording attempt outcomes (mixed into `DAGRun`, which owns the state)."""

    # Provided by DAGRun.
    _lock: Any
    _outcomes: Any
    _settling: bool
    _live: dict[str, int]
    _take_ready: Callable[[], list[ReadyAttempt]]
    _proceed: Callable[[list[ReadyAttempt]], None]
    _complete: Callable[..., None]
    _failed_attempt: Callable[..., None]

    def _outcome(
        self, tid: str, attempt: int, ok: bool, value: Any, duration: float, span_id: str | None,
        keep_one: bool = False,
    ) -> ReadyAttempt | None:
        """Queue an attempt's outcome, then settle the queue unless another thread is.

        With ``keep_one`` the first task claimed here is returned for the
        calling worker to run itself.
        """
        self._outcomes.append(AttemptOutcome(tid, attempt, ok, value, duration, span_id))
        return self._settle(keep_one)

    def _settle(self, keep_one: bool = False) -> ReadyAttempt | None:
        """Record every queued outcome and start what became ready.

        Only a non-blocking acquire: a worker that finds the lock taken leaves
        its outcome to the holder, who checks the queue again after each
        release. Waiting on the lock instead hands its ownership to a thread
        that lacks the GIL, and four workers then pay a context switch per
        task (a lock convoy).
        """
        outcomes = self._outcomes
        lock = self._lock
        mine = None
        while outcomes:
            if not lock.acquire(blocking=False):
                return mine
            if self._settling:
                # This thread is settling already, further up its stack (a
                # subscriber of an event published under the lock got here).
                lock.release()
                return mine
            self._settling = True
            try:
                while outcomes:
                    self._record(*outcomes.popleft())
                submit = self._take_ready()
            finally:
                self._settling = False
                lock.release()
            if keep_one and mine is None and submit:
                mine = submit.pop(0)
            self._proceed(submit)
        return mine

    def _record(
        self, tid: str, attempt: int, ok: bool, value: Any, duration: float, span_id: str | None
    ) -> None:
        if self._live.get(tid) != attempt:
            return  # an attempt abandoned by its timeout finished after all
        del self._live[tid]
        if ok:
            self._complete(tid, attempt, value, duration, span_id)
        else:
            self._failed_attempt(tid, attempt, value, duration, span_id)
