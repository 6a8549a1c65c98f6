"""Running a dead letter again: retry and replay, and the attempt they run in.

`LetterAttempts` is the part of `engine.resilience.dlq.queue.DeadLetterQueue` that retries a
letter through its source's retrier or replays its original event. The
letter is marked ``retrying`` under the queue's ``_lock`` (which guards the
letter book, the retriers and the replayers) before anything runs; the
retrier or replayer, and event publishing, run outside it, and the outcome
(resolved, or back ``dead`` with the new error) is written back under it.

`_Attempt`, in a context variable, is how a unit that fails again while it is
being retried or replayed is folded into its letter (see
`DeadLetterQueue.add`).
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING, Any, Callable

from .letter import DeadLetter, DeadLetterAction
from .errors import DeadLetterStateError, NoRetrierError
from ...events import Event

if TYPE_CHECKING:
    from .queue import Replayer, Retrier
    from .book import LetterBook
    from ...runtime import Runtime


class _Attempt:
    """The letter a retry or replay is running in this context.

    A unit that fails again while it is being retried calls ``add`` for the
    same source and unit; that failure is folded into this letter instead of
    making a second one, so each failure is dead-lettered exactly once.
    """

    __slots__ = ("letter", "failure")

    def __init__(self, letter: DeadLetter) -> None:
        self.letter = letter
        self.failure: BaseException | str | None = None


_attempt: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "flowconsole_dlq_attempt", default=None
)


class LetterAttempts:
    """Retry and replay of letters (mixed into `DeadLetterQueue`, which owns the letters)."""

    # Provided by DeadLetterQueue.
    runtime: Runtime
    _lock: threading.Lock
    _book: LetterBook
    _retriers: dict[str, Retrier]
    _replayers: dict[str, Replayer]
    _require_locked: Callable[[str, str], DeadLetter]
    _change_locked: Callable[[DeadLetter, str, str, str, str | None], DeadLetter]
    _action: Callable[[str, str, str | None], DeadLetterAction]
    _publish: Callable[[str, DeadLetter, dict[str, Any]], None]

    def retry(self, letter_id: str, *, actor: str = "operator", reason: str | None = None) -> DeadLetter:
        """Run the letter's unit again; returns the letter as it ends (resolved or dead)."""
        with self._lock:
            letter = self._require_locked(letter_id, "retry")
            retrier = self._retriers.get(letter.source)
            if retrier is None:
                raise NoRetrierError(letter_id, letter.source)
            letter = self._begin_locked(letter, "retry", actor, reason)
        self._publish("dlq.retried", letter, {"actor": actor, "reason": reason})
        return self._run_attempt(letter, lambda: retrier(letter), "retry", actor)

    def replay(self, letter_id: str, *, actor: str = "operator", reason: str | None = None) -> DeadLetter:
        """Publish the letter's original event again; returns the letter as it ends.

        The new event has the original type and the letter's (possibly
        edited) payload as data, and keeps the original trace id; it is
        published inside a ``dlq.replay`` span linked to the original span.
        A handler that fails on it during delivery puts the letter back
        ``dead``; otherwise the letter is resolved.
        """
        with self._lock:
            letter = self._require_locked(letter_id, "replay")
            if letter.event is None:
                raise DeadLetterStateError(
                    letter_id, "replay", letter.status, "it has no original event (only handler letters do)"
                )
            replayer = self._replayers.get(letter.source)
            letter = self._begin_locked(letter, "replay", actor, reason)
        return self._run_attempt(
            letter, lambda: self._republish(letter, replayer, actor, reason), "replay", actor
        )

    def _begin_locked(self, letter: DeadLetter, action: str, actor: str, reason: str | None) -> DeadLetter:
        return self._change_locked(letter, "retrying", action, actor, reason)

    def _run_attempt(self, letter: DeadLetter, run: Callable[[], Any], how: str, actor: str) -> DeadLetter:
        attempt = _Attempt(letter)
        token = _attempt.set(attempt)
        failure: BaseException | str | None = None
        interrupted: BaseException | None = None
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - the failure is recorded on the letter
            failure = exc
        except BaseException as exc:
            interrupted = exc
            failure = f"{how} interrupted by {type(exc).__name__}"
        finally:
            _attempt.reset(token)
        if failure is None:
            failure = attempt.failure
        if failure is None:
            with self._lock:
                current = self._book.get(letter.id) or letter
                done = self._change_locked(current, "resolved", "resolved", actor, f"{how} succeeded")
            self._publish("dlq.resolved", done, {"actor": actor, "via": how})
            return done
        message = failure if isinstance(failure, str) else str(failure)
        with self._lock:
            current = self._book.get(letter.id) or letter
            back = current.failed_again(failure, self._action(f"{how}.failed", actor, message))
            self._book.put(back)
        self._publish("dlq.retry_failed", back, {"actor": actor, "via": how})
        if interrupted is not None:
            raise interrupted
        return back

    def _republish(self, letter: DeadLetter, replayer: Replayer | None, actor: str, reason: str | None) -> None:
        original = letter.event or {}
        links: tuple[tuple[str, str], ...] = ()
        if original.get("trace_id") and original.get("span_id"):
            links = ((original["trace_id"], original["span_id"]),)
        attributes = {"dead_letter": letter.id, "event_type": original.get("type"), "actor": actor}
        with self.runtime.tracer.start_span("dlq.replay", attributes, kind="producer", links=links) as span:
            event = Event(
                original.get("type", letter.unit),
                letter.payload if isinstance(letter.payload, dict) else {"payload": letter.payload},
                workflow=original.get("workflow", letter.workflow),
                run_id=original.get("run_id", letter.run_id),
                trace_id=original.get("trace_id") or span.trace_id,
                span_id=span.span_id,
            )
            self._publish(
                "dlq.replayed",
                letter,
                {"actor": actor, "reason": reason, "event_id": event.id, "original_event_id": original.get("id")},
            )
            if replayer is None:
                self.runtime.bus.publish(event)
            else:
                replayer(letter, event)
