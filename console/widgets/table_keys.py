"""The keys every table and list of the console shares.

``j``/``k`` down and up, ``g``/``G`` the first and the last row,
``ctrl+d``/``ctrl+u`` half a page down and up, ``y`` copy the selected row
to the clipboard (Textual's `App.copy_to_clipboard`, which reaches the
terminal's clipboard by OSC 52). They live here, once, so every table moves
the same way: `console.widgets.row_table.RowTable` and `NavOptionList` (an
`OptionList`) have them, and a widget with a cursor of its own mixes in
`TableKeys` and says how its cursor moves (`nav_count`, `nav_index`,
`nav_go`).

What ``y`` copies: the first ancestor (the widget itself included) with a
``copy_text(widget)`` method that returns a string decides (a dead letter
as JSON, say); otherwise the selected row's key (its id). A panel with a
sortable table binds `SORT_BINDINGS` (see `console.widgets.table_sort`).
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import OptionList

NAV_BINDINGS = [
    Binding("j", "nav_move(1)", "Down", show=False),
    Binding("k", "nav_move(-1)", "Up", show=False),
    Binding("g", "nav_edge(0)", "Top", show=False),
    Binding("G", "nav_edge(1)", "Bottom", show=False),
    Binding("ctrl+d", "nav_half_page(1)", "Half page down", show=False),
    Binding("ctrl+u", "nav_half_page(-1)", "Half page up", show=False),
    Binding("y", "copy_selected", "Copy"),
]

SORT_BINDINGS = [
    Binding("s", "sort_next", "Sort"),
    Binding("S", "sort_reverse", "Reverse sort", show=False),
]

COPY_PREVIEW = 40


class TableKeys:
    """The shared keys, for a widget that says how its cursor moves."""

    def nav_count(self) -> int:
        """How many rows there are."""
        raise NotImplementedError

    def nav_index(self) -> int:
        """The selected row (-1 when none)."""
        raise NotImplementedError

    def nav_go(self, index: int) -> None:
        """Select row ``index`` (already within range) and scroll it into view."""
        raise NotImplementedError

    def nav_page(self) -> int:
        """How many rows fit on screen."""
        return max(1, getattr(self, "scrollable_content_region").height)

    def nav_key(self) -> str | None:
        """The selected row's id: what ``y`` copies when no ancestor says otherwise."""
        return None

    def _nav_to(self, index: int) -> None:
        count = self.nav_count()
        if count:
            self.nav_go(max(0, min(count - 1, index)))

    def action_nav_move(self, step: int) -> None:
        index = self.nav_index()
        self._nav_to(index + step if index >= 0 else 0)

    def action_nav_edge(self, end: int) -> None:
        self._nav_to(self.nav_count() - 1 if end else 0)

    def action_nav_half_page(self, direction: int) -> None:
        self._nav_to(max(0, self.nav_index()) + direction * max(1, self.nav_page() // 2))

    def action_copy_selected(self) -> None:
        widget: Any = self
        text = None
        for node in widget.ancestors_with_self:
            chooser = getattr(node, "copy_text", None)
            if callable(chooser):
                text = chooser(widget)
                if text is not None:
                    break
        if text is None:
            text = self.nav_key()
        if text is None:
            widget.app.notify("Nothing selected to copy.", markup=False, severity="warning")
            return
        widget.app.copy_to_clipboard(text)
        first = text.splitlines()[0] if text else ""
        preview = first if len(first) <= COPY_PREVIEW and "\n" not in text else first[:COPY_PREVIEW] + "…"
        widget.app.notify(f"Copied {preview}", markup=False)


class NavOptionList(TableKeys, OptionList):
    """An `OptionList` with the shared keys."""

    BINDINGS = NAV_BINDINGS

    def nav_count(self) -> int:
        return self.option_count

    def nav_index(self) -> int:
        return -1 if self.highlighted is None else self.highlighted

    def nav_go(self, index: int) -> None:
        self.highlighted = index

    def nav_key(self) -> str | None:
        option = self.highlighted_option
        return None if option is None else option.id
