"""Bulk operator actions on the dead-letter queue: retry or discard every dead
letter a filter matches, one letter at a time through the queue's own actions.

The operator is shown `DeadLetterQueue.count_matching` first; passing that
count as ``expect`` makes the action do nothing if the filter now matches a
different number of letters. Letters another operator is acting on at the
same moment are skipped and reported, never acted on twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import (
    DeadLetterBusyError,
    DeadLetterCountChanged,
    DeadLetterNotFound,
    DeadLetterStateError,
    NoRetrierError,
)

if TYPE_CHECKING:
    from .letter import DeadLetter
    from .queue import DeadLetterQueue


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What a bulk action did, by letter id."""

    matched: int
    succeeded: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def retry_matching(
    queue: DeadLetterQueue,
    *,
    actor: str = "operator",
    reason: str | None = None,
    expect: int | None = None,
    **filters: Any,
) -> BulkOutcome:
    """Retry every dead letter matching ``filters``; ``failed`` lists those still dead."""
    letters = _targets(queue, filters, expect)
    succeeded: list[str] = []
    failed: list[str] = []
    skipped: list[str] = []
    for letter in letters:
        try:
            outcome = queue.retry(letter.id, actor=actor, reason=reason)
        except (DeadLetterBusyError, DeadLetterStateError, DeadLetterNotFound, NoRetrierError):
            skipped.append(letter.id)
            continue
        (succeeded if outcome.status == "resolved" else failed).append(letter.id)
    return BulkOutcome(len(letters), tuple(succeeded), tuple(failed), tuple(skipped))


def discard_matching(
    queue: DeadLetterQueue,
    reason: str | None = None,
    *,
    actor: str = "operator",
    expect: int | None = None,
    **filters: Any,
) -> BulkOutcome:
    """Discard every dead letter matching ``filters``."""
    letters = _targets(queue, filters, expect)
    succeeded: list[str] = []
    skipped: list[str] = []
    for letter in letters:
        try:
            queue.discard(letter.id, reason, actor=actor)
        except (DeadLetterBusyError, DeadLetterStateError, DeadLetterNotFound):
            skipped.append(letter.id)
            continue
        succeeded.append(letter.id)
    return BulkOutcome(len(letters), tuple(succeeded), (), tuple(skipped))


def _targets(queue: DeadLetterQueue, filters: dict[str, Any], expect: int | None) -> list[DeadLetter]:
    status = filters.pop("status", "dead")
    if status not in (None, "dead"):
        raise DeadLetterStateError("*", "act in bulk on", str(status), "bulk actions apply to dead letters only")
    letters = queue.list(status="dead", **filters)
    if expect is not None and expect != len(letters):
        raise DeadLetterCountChanged(expect, len(letters))
    return letters
