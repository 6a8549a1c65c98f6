"""View state of the dead-letter browser, built from ``dlq.*`` events only.

Each letter is kept as the last record the engine published for it (the
``dlq.*`` events carry the letter; an event that carries only the id updates
the status it implies). On top: a text filter (``/``; words must all match,
``field:value`` words match one field), grouping by fingerprint, and the set
of marked rows. Only the UI thread calls `apply` and the setters, so no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

LETTER_LIMIT = 10_000

# What an event type does to a letter's status when its data says nothing.
_STATUS_OF = {
    "dlq.added": "dead",
    "dlq.retried": "retrying",
    "dlq.retrying": "retrying",
    "dlq.resolved": "resolved",
    "dlq.discarded": "discarded",
    "dlq.retry_failed": "dead",
    "dlq.failed": "dead",
}
_FIELDS = {
    "workflow": "workflow", "wf": "workflow", "unit": "unit", "type": "error_type",
    "error_type": "error_type", "status": "status", "source": "source", "fp": "fingerprint",
    "fingerprint": "fingerprint", "error": "error", "id": "id",
}


@dataclass(frozen=True, slots=True)
class LetterView:
    """One dead letter as the browser shows it (a value: replaced on change)."""

    id: str
    source: str = ""
    workflow: str | None = None
    unit: str = ""
    error_type: str = ""
    error: str = ""
    traceback: str = ""
    attempts: int = 1
    first_failure: float | None = None
    last_failure: float | None = None
    fingerprint: str = ""
    status: str = "dead"
    payload: Any = None
    run_id: str | None = None
    trace_id: str | None = None
    definition_version: Any = None
    history: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def haystack(self) -> str:
        return " ".join(
            str(v) for v in (self.id, self.source, self.workflow, self.unit, self.error_type,
                             self.error, self.fingerprint, self.status)
        ).lower()


class DlqView:
    """Dead letters with the browser's filter, grouping and marks."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.letters: dict[str, LetterView] = {}
        self.filter_text = ""
        self.group_by_fingerprint = False
        self.marked: set[str] = set()
        self.evicted = 0
        # Letters whose full record (payload, traceback, history) is older
        # than their last event: the engine's events carry a summary only.
        self.stale: set[str] = set()

    # -- folding ---------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            if event.type.startswith("dlq."):
                changed |= self._on_dlq(event)
        return changed

    def _on_dlq(self, event: Event) -> bool:
        data = event.data
        record = data.get("letter") if isinstance(data.get("letter"), Mapping) else data
        letter_id = record.get("id", data.get("letter_id", data.get("id")))
        if letter_id is None:
            return False
        letter_id = str(letter_id)
        if event.type == "dlq.evicted":
            self.marked.discard(letter_id)
            self.stale.discard(letter_id)
            self.evicted += 1
            return self.letters.pop(letter_id, None) is not None
        old = self.letters.get(letter_id)
        if old is None:
            if len(self.letters) >= LETTER_LIMIT:
                self.letters.pop(next(iter(self.letters)))
            old = LetterView(letter_id, first_failure=event.ts, last_failure=event.ts)
        letter = _merge(old, record)
        # The engine's dlq events carry a summary in data and the letter's
        # workflow / run / trace as the Event's correlation fields.
        for name in ("workflow", "run_id", "trace_id"):
            value = getattr(event, name)
            if value is not None and record.get(name) is None:
                letter = replace(letter, **{name: str(value)})
        if "status" not in record and event.type in _STATUS_OF:
            letter = replace(letter, status=_STATUS_OF[event.type])
        if "history" not in record:
            entry = {"action": event.type.split(".", 1)[1], "at": event.ts}
            for key in ("actor", "reason"):
                if data.get(key) is not None:
                    entry[key] = data[key]
            letter = replace(letter, history=old.history + (entry,))
        if letter.status in ("resolved", "discarded"):
            self.marked.discard(letter_id)
        self.letters[letter_id] = letter
        self.stale.add(letter_id)
        return True

    def absorb(self, record: Mapping[str, Any]) -> bool:
        """Merge a full letter record read through the engine's API (payload, traceback)."""
        letter_id = record.get("id")
        if letter_id is None or str(letter_id) not in self.letters:
            return False
        self.letters[str(letter_id)] = _merge(self.letters[str(letter_id)], record)
        self.stale.discard(str(letter_id))
        return True

    # -- filter, groups, marks ---------------------------------------------

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()

    def matches(self, letter: LetterView) -> bool:
        for word in self.filter_text.lower().split():
            name, sep, value = word.partition(":")
            if sep and name in _FIELDS:
                if value not in str(getattr(letter, _FIELDS[name]) or "").lower():
                    return False
            elif word not in letter.haystack():
                return False
        return True

    def rows(self) -> list[LetterView]:
        """Letters that pass the filter: newest failure first, or grouped by fingerprint."""
        letters = [x for x in self.letters.values() if self.matches(x)]
        letters.sort(key=lambda x: (-(x.last_failure or 0.0), x.id))
        if self.group_by_fingerprint:
            sizes = Counter(x.fingerprint for x in letters)
            letters.sort(key=lambda x: (-sizes[x.fingerprint], x.fingerprint))
        return letters

    def group_sizes(self) -> Counter[str]:
        return Counter(x.fingerprint for x in self.letters.values())

    def toggle_mark(self, letter_id: str) -> bool:
        """Mark or unmark a row; True when it is now marked."""
        if letter_id in self.marked:
            self.marked.discard(letter_id)
            return False
        if letter_id in self.letters:
            self.marked.add(letter_id)
            return True
        return False

    def bulk_targets(self) -> list[str]:
        """What ``R`` acts on: the marked rows, else every filtered row that is dead."""
        if self.marked:
            return sorted(i for i in self.marked if self.letters.get(i) and self.letters[i].status == "dead")
        return [x.id for x in self.rows() if x.status == "dead"]

    def age(self, letter: LetterView) -> float:
        when = letter.last_failure if letter.last_failure is not None else letter.first_failure
        return 0.0 if when is None else max(0.0, self.clock.time() - when)

    def counts(self) -> Counter[str]:
        return Counter(x.status for x in self.letters.values())


def _merge(old: LetterView, record: Mapping[str, Any]) -> LetterView:
    changes: dict[str, Any] = {}
    for name in ("source", "unit", "error_type", "error", "traceback", "fingerprint", "status"):
        if record.get(name) is not None:
            changes[name] = str(record[name])
    for name in ("workflow", "run_id", "trace_id"):
        if record.get(name) is not None:
            changes[name] = str(record[name])
    if isinstance(record.get("attempts"), int):
        changes["attempts"] = record["attempts"]
    for name in ("first_failure", "last_failure"):
        value = record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            changes[name] = float(value)
    if "payload" in record:
        changes["payload"] = record["payload"]
    if "definition_version" in record:
        changes["definition_version"] = record["definition_version"]
    if isinstance(record.get("history"), (list, tuple)):
        changes["history"] = tuple(h for h in record["history"] if isinstance(h, Mapping))
    return replace(old, **changes)
