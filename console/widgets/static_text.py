"""Updating a `Static` only when what it shows changed.

Panels redraw from their state once a second (ages, time in state), and
``Static.update`` repaints and lays out the whole screen every time, even
for the same text; a layout costs many times a repaint. `show_text` skips
an update that would show the same text, and asks for a layout only when
the widget's size would change: its content height (when ``height`` is
auto, within its min- and max-height) or width (when ``width`` is auto), so
a line that grows but still fits, or wraps to as many rows, or a text that
stays shorter than a ``min-height: 100%`` pane, costs a repaint only. Text
whose lines all fit is measured by counting them; only a line wider than
the widget is measured by Textual (wrapping). UI thread only.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widgets import Static

Shape = tuple[int | None, int | None]

# What each Static was last given, and the size that text needs.
_SHOWN: WeakKeyDictionary[Static, tuple[Text, Shape | None]] = WeakKeyDictionary()


def _content_height(static: Static, text: Text, width: int, container: Size, viewport: Size) -> int:
    """Rows ``text`` takes at ``width``: one per line unless a line is wider (then Textual measures the wrapping)."""
    lines = text.plain.split("\n")
    if all(cell_len(line) <= width for line in lines):
        return len(lines)
    return static.get_content_height(container, viewport, width)


def _clamped(height: int, static: Static, container: Size, viewport: Size) -> int:
    """The widget's outer height for ``height`` rows of content, within its min- and max-height."""
    styles = static.styles
    outer = height + styles.gutter.height
    if styles.min_height is not None:
        outer = max(outer, int(styles.min_height.resolve(container, viewport)))
    if styles.max_height is not None:
        outer = min(outer, int(styles.max_height.resolve(container, viewport)))
    return outer


def _shape(static: Static, text: Text) -> Shape | None:
    """The width and height ``static`` takes for ``text`` (None where fixed); None before its first layout."""
    size = static.size
    if not size.width or static.parent is None:
        return None
    container = static.parent.size
    viewport = static.app.size
    styles = static.styles
    width = static.get_content_width(container, viewport) if styles.is_auto_width else None
    height = None
    if styles.is_auto_height:
        height = _clamped(_content_height(static, text, size.width, container, viewport), static, container, viewport)
    return width, height


def show_text(static: Static, text: Text | str) -> None:
    """Show ``text`` in ``static`` unless it already does; lay out only if its size changes."""
    text = Text(text) if isinstance(text, str) else text
    shown = _SHOWN.get(static)
    if shown is not None and shown[0] == text:
        return
    static.update(text, layout=False)
    shape = _shape(static, text)
    _SHOWN[static] = (text, shape)
    if shown is None or shape is None or shape != shown[1]:
        static.refresh(layout=True)
