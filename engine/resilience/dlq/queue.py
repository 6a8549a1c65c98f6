"""The dead-letter queue: failed units of work, kept until an operator acts.

Units of work that exhaust their retries land here through ``add`` (DAG
tasks, saga compensations, event handlers, pool tasks), and stay until an
operator retries, replays or discards them:

* ``retry(id)`` runs the unit again from its stored payload through the
  retrier its source registered, which looks up the *current* definition of
  the workflow, so a fix loaded since the failure applies. The letter is
  marked ``retrying`` atomically first: a second retry of the same letter at
  the same time gets `DeadLetterBusyError`. Success resolves the letter;
  failure puts it back ``dead`` with one more attempt and the new error. The
  letter is never lost on the way: even an interrupt puts it back.
* ``replay(id)`` publishes the original event again (a new event, same type,
  the letter's payload as data, same trace id) inside a span linked to the
  original trace, on the bus the source's replayer names (default: the
  runtime's). A synchronous handler that fails on it puts the letter back.
* A unit that fails again while being retried or replayed on the same thread
  (same source and unit) is folded into that letter, never added twice.
* ``discard``, ``edit_payload``, and bulk ``retry_matching`` /
  ``discard_matching`` by filter, with ``count_matching`` to show the count
  first.

Every action is an event (``dlq.added``, ``dlq.retried``, ``dlq.resolved``,
``dlq.retry_failed``, ``dlq.replayed``, ``dlq.discarded``, ``dlq.edited``,
``dlq.evicted``) carrying who and why. Past ``capacity`` letters the oldest
settled one (resolved or discarded), else the oldest dead one, is evicted
with a ``dlq.evicted`` event; letters being retried are never evicted.

Retry and replay are methods here; the folding of a repeated failure into
its letter is `engine.resilience.dlq.attempts`; bulk actions in `engine.resilience.dlq.bulk`; the errors
and filter names in `engine.resilience.dlq.errors`.

Thread safety: ``_lock`` guards the letter book (`engine.resilience.dlq.book`: the
store and the index eviction decides on), the retriers and the replayers. Events are published
and retriers run outside it, so handlers may call back into the queue.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from .letter import (
    STATUSES,
    DeadLetter,
    DeadLetterAction,
    DeadLetterStore,
    InMemoryDeadLetterStore,
    strict_json_value,
)
from .attempts import _Attempt, _attempt
from .book import LetterBook
from .bulk import BulkOutcome, discard_matching, retry_matching
from .errors import (
    FILTERS,
    DeadLetterBusyError,
    DeadLetterFilterError,
    DeadLetterNotFound,
    DeadLetterStateError,
    NoRetrierError,
)
from ...errors import FlowError
from ...events import Event

if TYPE_CHECKING:
    from .queue import Replayer, Retrier
    from .book import LetterBook
    from ...runtime import Runtime

__all__ = [
    "DEFAULT_CAPACITY",
    "FILTERS",
    "BulkOutcome",
    "DeadLetterBusyError",
    "DeadLetterFilterError",
    "DeadLetterNotFound",
    "DeadLetterQueue",
    "DeadLetterStateError",
    "NoRetrierError",
]

Retrier = Callable[[DeadLetter], Any]
Replayer = Callable[[DeadLetter, Event], None]
DEFAULT_CAPACITY = 10_000


class DeadLetterQueue:
    """Dead letters with operator actions; the basic API's ``send``/``get_messages`` work too.

    ``store`` keeps the letters (in memory by default; letters already in it
    are there at once); ``capacity`` caps how many are kept.
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        store: DeadLetterStore | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        if runtime is None:
            from ...runtime import current_runtime

            runtime = current_runtime()
        if not isinstance(capacity, int) or capacity < 1:
            raise FlowError(f"DeadLetterQueue capacity must be an integer >= 1, got {capacity!r}")
        self.runtime = runtime
        self.capacity = capacity
        self.evicted = 0
        self._store: DeadLetterStore = store if store is not None else InMemoryDeadLetterStore()
        self._lock = threading.Lock()
        self._book = LetterBook(self._store, runtime.clock.time())
        self._retriers: dict[str, Retrier] = {}
        self._replayers: dict[str, Replayer] = {}

    # -- adding --------------------------------------------------------

    def add(
        self,
        *,
        source: str,
        unit: str,
        error: BaseException | str,
        payload: Any = None,
        workflow: str | None = None,
        definition_version: int | None = None,
        attempts: int = 1,
        run_id: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        event: Event | None = None,
        first_failure: float | None = None,
    ) -> DeadLetter:
        """Record a unit of work that failed for good; returns its letter.

        ``first_failure`` is when the first of ``attempts`` failed (the
        runtime clock's time; default now, when the last one did).

        Called by a unit being retried from this queue (same source and unit,
        same context), it records the failure on the letter being retried
        instead of adding another.
        """
        attempt = _attempt.get()
        if attempt is not None and (attempt.letter.source, attempt.letter.unit) == (source, unit):
            attempt.failure = error
            return attempt.letter
        letter = DeadLetter.from_failure(
            source=source,
            unit=unit,
            error=error,
            payload=payload,
            now=self.runtime.clock.time(),
            attempts=attempts,
            first_failure=first_failure,
            event=event.to_dict() if event is not None else None,
            workflow=workflow,
            definition_version=definition_version,
            run_id=run_id,
            trace_id=trace_id,
            span_id=span_id,
        )
        with self._lock:
            self._book.put(letter)
            evicted = self._book.evict_over(self.capacity)
            self.evicted += len(evicted)
        self._publish("dlq.added", letter, {"location": letter.location})
        for old in evicted:
            self._publish("dlq.evicted", old, {"capacity": self.capacity})
        return letter

    def send(self, message: Any) -> DeadLetter:
        """The basic API: keep ``message`` as a letter of source ``"message"``."""
        error = message.get("error") if isinstance(message, dict) else None
        return self.add(
            source="message",
            unit="message",
            error=str(error) if error is not None else "sent to the dead-letter queue",
            payload=message,
        )

    def get_messages(self) -> list[dict[str, Any]]:
        """The basic API's view: ``{"message", "timestamp"}`` for each letter sent with ``send``."""
        return [
            {"message": letter.payload, "timestamp": letter.first_failure}
            for letter in self.list(source="message")
        ]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The basic API's attribute: the same list as `get_messages`."""
        return self.get_messages()

    # -- reading -------------------------------------------------------

    def get(self, letter_id: str) -> DeadLetter:
        """The letter with ``letter_id``; raises `DeadLetterNotFound`."""
        with self._lock:
            letter = self._book.get(letter_id)
        if letter is None:
            raise DeadLetterNotFound(letter_id)
        return letter

    def list(self, **filters: Any) -> list[DeadLetter]:
        """Letters matching every given filter, oldest first.

        Filters: ``workflow``, ``error_type``, ``fingerprint``, ``status``,
        ``source``, ``unit``, ``run_id``; a filter given as None matches all.
        """
        wanted = check_filters(filters)
        with self._lock:
            letters = self._book.all()
        return [
            letter
            for letter in letters
            if all(getattr(letter, name) == value for name, value in wanted.items())
        ]

    def count_matching(self, **filters: Any) -> int:
        """How many letters a filter matches (show it before a bulk action)."""
        return len(self.list(**filters))

    def __len__(self) -> int:
        with self._lock:
            return len(self._book)

    # -- retriers ------------------------------------------------------

    def register_retrier(self, source: str, retrier: Retrier) -> None:
        """Use ``retrier(letter)`` to run letters of ``source`` again.

        The retrier runs the unit once from ``letter.payload`` with the
        current definition of ``letter.workflow`` and raises on failure; it
        must not dead-letter the unit itself (if it does, the failure is
        folded into the letter being retried). Registering again replaces.
        """
        if not callable(retrier):
            raise FlowError(f"retrier for source {source!r} is not callable: {retrier!r}")
        with self._lock:
            self._retriers[source] = retrier

    def register_replayer(self, source: str, replayer: Replayer) -> None:
        """Use ``replayer(letter, event)`` to publish replayed events of ``source``.

        Without one, a replayed event goes to the runtime's bus; a source
        whose units listen on another bus (a workflow's own) registers where.
        """
        if not callable(replayer):
            raise FlowError(f"replayer for source {source!r} is not callable: {replayer!r}")
        with self._lock:
            self._replayers[source] = replayer

    def retriers(self) -> dict[str, Retrier]:
        """The registered retriers by source (a copy)."""
        with self._lock:
            return dict(self._retriers)

    def replayers(self) -> dict[str, Replayer]:
        """The registered replayers by source (a copy)."""
        with self._lock:
            return dict(self._replayers)

    @property
    def store(self) -> DeadLetterStore:
        """Where the letters are kept."""
        return self._store

    def has_retrier(self, source: str) -> bool:
        """Whether letters of ``source`` can be retried."""
        with self._lock:
            return source in self._retriers

    # -- operator actions ----------------------------------------------

    def discard(self, letter_id: str, reason: str | None = None, *, actor: str = "operator") -> DeadLetter:
        """Give up on the letter for good (it stays, marked discarded, for the record)."""
        with self._lock:
            letter = self._require_locked(letter_id, "discard")
            letter = self._change_locked(letter, "discarded", "discard", actor, reason)
        self._publish("dlq.discarded", letter, {"actor": actor, "reason": reason})
        return letter

    def resolve(
        self, letter_id: str, reason: str | None = None, *, actor: str = "operator", via: str = "retry"
    ) -> DeadLetter:
        """Mark the letter resolved: its unit of work was redone successfully
        by its owner outside the queue (a saga's compensations retried by an
        operator); ``via`` says how, as in ``dlq.resolved``."""
        with self._lock:
            letter = self._require_locked(letter_id, "resolve")
            letter = self._change_locked(letter, "resolved", "resolved", actor, reason)
        self._publish("dlq.resolved", letter, {"actor": actor, "via": via})
        return letter

    def edit_payload(
        self, letter_id: str, payload: Any, *, actor: str = "operator", reason: str | None = None
    ) -> DeadLetter:
        """Replace the stored inputs before a retry or replay; the payload must be JSON."""
        value = strict_json_value(letter_id, payload)
        with self._lock:
            letter = self._require_locked(letter_id, "edit")
            letter = letter.changed(self._action("edit", actor, reason), payload=value, payload_exact=True)
            self._book.put(letter)
        self._publish("dlq.edited", letter, {"actor": actor, "reason": reason})
        return letter

    def retry_matching(
        self, *, actor: str = "operator", reason: str | None = None, expect: int | None = None, **filters: Any
    ) -> BulkOutcome:
        """Retry every dead letter matching ``filters`` (see `engine.resilience.dlq.bulk.retry_matching`)."""
        return retry_matching(self, actor=actor, reason=reason, expect=expect, **filters)

    def discard_matching(
        self, reason: str | None = None, *, actor: str = "operator", expect: int | None = None, **filters: Any
    ) -> BulkOutcome:
        """Discard every dead letter matching ``filters`` (see `engine.resilience.dlq.bulk.discard_matching`)."""
        return discard_matching(self, reason, actor=actor, expect=expect, **filters)

    # -- internals -----------------------------------------------------

    def _require_locked(self, letter_id: str, action: str) -> DeadLetter:
        letter = self._book.get(letter_id)
        if letter is None:
            raise DeadLetterNotFound(letter_id)
        if letter.status == "retrying":
            raise DeadLetterBusyError(letter_id)
        if letter.status != "dead":
            raise DeadLetterStateError(letter_id, action, letter.status)
        return letter

    def _action(self, action: str, actor: str, reason: str | None) -> DeadLetterAction:
        return DeadLetterAction(action, actor, reason, self.runtime.clock.time())

    def _change_locked(
        self, letter: DeadLetter, status: str, action: str, actor: str, reason: str | None
    ) -> DeadLetter:
        changed = letter.changed(self._action(action, actor, reason), status=status)
        self._book.put(changed)
        return changed

    def _publish(self, event_type: str, letter: DeadLetter, extra: dict[str, Any]) -> None:
        data = letter.summary()
        data.update(extra)
        self.runtime.bus.publish(
            Event(
                event_type,
                data,
                workflow=letter.workflow,
                run_id=letter.run_id,
                trace_id=letter.trace_id,
                span_id=letter.span_id,
            )
        )

    # -- retry and replay, and the attempt they run in ------------------------

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


def check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters given a value, after checking each names a filter (and a status)."""
    unknown = sorted(set(filters) - FILTERS)
    if unknown:
        raise DeadLetterFilterError(unknown[0], filters[unknown[0]], f"is not a filter; use one of {sorted(FILTERS)}")
    status = filters.get("status")
    if status is not None and status not in STATUSES:
        raise DeadLetterFilterError("status", status, f"is not a status; use one of {list(STATUSES)}")
    return {name: value for name, value in filters.items() if value is not None}

