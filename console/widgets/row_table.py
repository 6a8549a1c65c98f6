"""A table of keyed rows with a row cursor, drawn line by line.

The panels' tables (dead letters, saga runs, machine instances, runs and
spans) are refilled from their state once a second, and between two
refills a cell or two has changed: an age ticked, a status moved on.
Textual's `DataTable` renders every visible row again after any change;
here each row is rendered once into a line and that line is kept until the
row's cells, the column widths, the cursor on it or its style (a new
theme, the table's focus) change, so a
ticking age costs the lines of the rows whose age ticked, and an unchanged
table costs nothing. Lines are cropped to the scroll offset when drawn, and only the lines of
rows that changed are marked for Textual to draw again: the rest of the
table, borders and all, costs nothing in the frame either.

`set_rows` replaces every row at once (the panels pass what they show now)
and keeps the cursor on the row with the selected key; it posts no
message, as the panel already knows what it selected. Moving the cursor
(keys, `move_cursor`, a click) posts `RowHighlighted`; enter, or a click,
posts `RowSelected`. The header is one line that stays on top; columns are
as wide as their widest cell or label, and grow but never shrink while the
table lives, so a shorter age does not shift the columns right of it.
Rows added to a table of fixed size lay out nothing (`SteadyScrollView`).

UI thread only, like every widget.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from .steady_scroll import SteadyScrollView
from .table_keys import NAV_BINDINGS, TableKeys

Row = tuple[str, Sequence[Text]]
# Spaces either side of every cell, as DataTable draws them.
CELL_PADDING = 1


def _cell_signature(cell: Text) -> tuple[Any, ...]:
    return cell.plain, str(cell.style), tuple((span.start, span.end, str(span.style)) for span in cell.spans)


class _RowMessage(Message):
    """A row of a table, by its index and key."""

    def __init__(self, table: RowTable, cursor_row: int, row_key: str | None) -> None:
        super().__init__()
        self.table = table
        self.cursor_row = cursor_row
        self.row_key = row_key

    @property
    def control(self) -> RowTable:
        return self.table


class RowTable(TableKeys, SteadyScrollView, can_focus=True):
    """Rows of cells under a header, one selected by the cursor."""

    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor"}

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "nav_edge(0)", "First", show=False),
        Binding("end", "nav_edge(1)", "Last", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
        *NAV_BINDINGS,
    ]

    class RowHighlighted(_RowMessage):
        """The cursor moved onto a row."""

    class RowSelected(_RowMessage):
        """The row under the cursor was chosen (enter or a click)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: list[Text] = []
        self._widths: list[int] = []
        self._keys: list[str] = []
        self._cells: list[Sequence[Text]] = []
        self._signatures: list[tuple[Any, ...]] = []
        self._cursor = 0
        # row key -> (what the line was drawn from, the line at full width).
        self._lines: dict[str, tuple[tuple[Any, ...], Strip]] = {}
        self._header: tuple[tuple[Any, ...], Strip] | None = None

    # -- content ----------------------------------------------------------

    def add_columns(self, *labels: str) -> None:
        """Add a column per label, left to right."""
        for label in labels:
            text = Text(label)
            self._labels.append(text)
            self._widths.append(text.cell_len)
        self._resized()

    def set_rows(self, rows: Sequence[Row], selected: str | None = None) -> None:
        """Show ``rows`` (key, cells), the cursor on ``selected`` if it is there, else on the first row."""
        keys = [key for key, _ in rows]
        cells = [list(row_cells) for _, row_cells in rows]
        signatures = [tuple(_cell_signature(cell) for cell in row_cells) for row_cells in cells]
        if keys == self._keys and signatures == self._signatures:
            return
        same_rows = keys == self._keys
        shown = self._signatures
        self._keys, self._cells, self._signatures = keys, cells, signatures
        kept = set(keys)
        for gone in [key for key in self._lines if key not in kept]:
            del self._lines[gone]
        widened = False
        for row_cells in cells:
            for column, cell in enumerate(row_cells[: len(self._widths)]):
                if cell.cell_len > self._widths[column]:
                    self._widths[column] = cell.cell_len
                    widened = True
        if not same_rows:
            self._cursor = keys.index(selected) if selected in kept else 0
        if widened or not same_rows:
            self._resized()
        if not same_rows:
            self._scroll_to_cursor()
        if widened or not same_rows:
            self.refresh()
            return
        # Only the rows whose cells changed are drawn again (a row's line is
        # one below its index: the header is the first).
        self.repaint_rows(row + 1 for row, (before, now) in enumerate(zip(shown, signatures)) if before != now)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_row(self) -> int:
        """The cursor's row index (0 when the table is empty)."""
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, None when the table is empty."""
        return self._keys[self._cursor] if self._keys else None

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of row ``index``."""
        return list(self._cells[index])

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` (clamped to the rows), scroll it into view and say so."""
        if not self._keys:
            return
        row = max(0, min(len(self._keys) - 1, row))
        if row != self._cursor:
            self.repaint_lines(self._cursor + 1)
            self._cursor = row
            self.repaint_lines(row + 1)
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, row, self._keys[row]))

    # -- keys and mouse ---------------------------------------------------

    def nav_count(self) -> int:
        return self.row_count

    def nav_index(self) -> int:
        return self._cursor if self._keys else -1

    def nav_go(self, index: int) -> None:
        self.move_cursor(row=index)

    def nav_page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def nav_key(self) -> str | None:
        return self.cursor_key

    def action_cursor(self, step: int) -> None:
        if self._keys:
            self.move_cursor(row=self._cursor + step)

    def action_page(self, direction: int) -> None:
        if self._keys:
            self.move_cursor(row=self._cursor + direction * self.nav_page())

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self._cursor, self._keys[self._cursor]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= row < len(self._keys):
            self.move_cursor(row=row)
            self.action_select_cursor()

    # -- drawing ----------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            # The header and the cursor's row fill the width in their style, as DataTable's do.
            style = base + self.get_component_rich_style("row-table--header")
            line = self._header_line(style)
        else:
            row = scroll_y + y - 1
            if not 0 <= row < len(self._keys):
                return Strip.blank(width, base)
            style = base + self.get_component_rich_style("row-table--cursor") if row == self._cursor else base
            line = self._row_line(row, style)
        return line.crop_extend(scroll_x, scroll_x + width, style)

    def _header_line(self, style: Style) -> Strip:
        drawn_from = (tuple(self._widths), str(style))
        if self._header is None or self._header[0] != drawn_from:
            self._header = (drawn_from, self._draw(self._labels, style))
        return self._header[1]

    def _row_line(self, row: int, style: Style) -> Strip:
        key = self._keys[row]
        drawn_from = (self._signatures[row], tuple(self._widths), str(style))
        kept = self._lines.get(key)
        if kept is None or kept[0] != drawn_from:
            kept = (drawn_from, self._draw(self._cells[row], style))
            self._lines[key] = kept
        return kept[1]

    def _draw(self, cells: Sequence[Text], style: Style) -> Strip:
        line = Text(no_wrap=True, end="")
        pad = " " * CELL_PADDING
        for column, width in enumerate(self._widths):
            cell = cells[column].copy() if column < len(cells) else Text()
            cell.truncate(width, overflow="ellipsis", pad=True)
            line.append(pad)
            line.append_text(cell)
            line.append(pad)
        # The row's style under the cells' own (Text.render drops a base style on unstyled text).
        return Strip(line.render(self.app.console), line.cell_len).apply_style(style)

    def _line_width(self) -> int:
        return sum(width + 2 * CELL_PADDING for width in self._widths)

    def _resized(self) -> None:
        self.virtual_size = Size(self._line_width(), len(self._keys) + 1)

    def _scroll_to_cursor(self) -> None:
        # The header takes the first line: rows show in the lines below it.
        height = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)
