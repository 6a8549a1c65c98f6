"""Updating a `Static` only when what it shows changed.

Panels redraw from their state once a second (ages, time in state), and
``Static.update`` repaints and lays out the screen every time, even for the
same text. `show_text` skips an update that would show the same text, and
asks for a layout only when the text's shape (lines, widest line) changed;
otherwise the widget is repainted in place. UI thread only.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from rich.text import Text
from textual.widgets import Static

# What each Static was last given, and that text's shape.
_SHOWN: WeakKeyDictionary[Static, tuple[Text, tuple[int, int]]] = WeakKeyDictionary()


def _shape(text: Text) -> tuple[int, int]:
    lines = text.plain.split("\n")
    return len(lines), max((len(line) for line in lines), default=0)


def show_text(static: Static, text: Text | str) -> None:
    """Show ``text`` in ``static`` unless it already does; lay out only if its shape changed."""
    text = Text(text) if isinstance(text, str) else text
    shape = _shape(text)
    shown = _SHOWN.get(static)
    if shown is not None and shown[0] == text:
        return
    _SHOWN[static] = (text, shape)
    static.update(text, layout=shown is None or shown[1] != shape)
