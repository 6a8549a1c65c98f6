"""The sort order of a panel's table, cycled from the keyboard.

``s`` (see `console.widgets.table_keys.SORT_BINDINGS`) moves the sort to the
next column: the panel's own order first, then each column in turn, then
the panel's order again; ``S`` reverses the direction. The panel passes its
rows through `SortOrder.apply` before drawing them and shows `describe` in
its summary line. Sorting is stable, so rows that tie keep the panel's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class SortColumn:
    """A column the table can be sorted by: its heading and the key of a row."""

    label: str
    key: Callable[[Any], Any]


class SortOrder:
    """Which column (if any) a table is sorted by, and which way."""

    def __init__(self, columns: Sequence[SortColumn]) -> None:
        self.columns = list(columns)
        self.index: int | None = None
        self.descending = False

    def next(self) -> None:
        """The next column, ascending; after the last, the panel's own order."""
        index = 0 if self.index is None else self.index + 1
        self.index = None if index >= len(self.columns) else index
        self.descending = False

    def reverse(self) -> None:
        """Flip the direction (sorting by the first column if none was chosen)."""
        if self.index is None:
            self.index = 0
            self.descending = True
            return
        self.descending = not self.descending

    def apply(self, rows: Sequence[Row]) -> list[Row]:
        if self.index is None:
            return list(rows)
        return sorted(rows, key=self.columns[self.index].key, reverse=self.descending)

    def describe(self) -> str:
        """``sorted by age ▲`` (``▼`` descending), or ``""`` in the panel's own order."""
        if self.index is None:
            return ""
        return f"sorted by {self.columns[self.index].label} {'▼' if self.descending else '▲'}"
