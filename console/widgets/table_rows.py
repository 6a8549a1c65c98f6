"""Refilling a panel's DataTable only when what it shows changed.

The panels redraw from their state on every change and once a second (for
ages); rebuilding an unchanged table would cost work and move the cursor
for nothing, so `refill` compares the rows with the last ones drawn.
Rebuilding moves the cursor through row 0; those highlight messages are
suppressed, and the cursor is put back on the row with the same key.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, Sequence[Text]]


def signature(rows: Sequence[Row]) -> tuple[Any, ...]:
    return tuple((key, tuple((c.plain, repr(c.style), repr(c.spans)) for c in cells)) for key, cells in rows)


def refill(table: DataTable, rows: Sequence[Row], last: tuple[Any, ...] | None, selected: str | None) -> tuple[Any, ...]:
    """Show ``rows`` (key, cells) in ``table`` unless ``last`` shows them already.

    Returns the signature to pass as ``last`` next time.
    """
    current = signature(rows)
    if current == last:
        return current
    with table.prevent(DataTable.RowHighlighted):
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if selected is not None:
            index = next((i for i, (key, _) in enumerate(rows) if key == selected), None)
            if index is not None:
                table.move_cursor(row=index, animate=False)
    return current
