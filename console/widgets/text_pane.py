"""A read-only text in a pane of fixed size, drawn line by line.

The event log's detail follows the newest event once a second; in a
`Static` every new event of another length resized the widget and laid out
the screen. Here the text's lines are rendered when first drawn and kept
until the next `show`, lines are not wrapped (a long one scrolls
sideways), and a text of another length only moves the scrollbars
(`SteadyScrollView`). `show` of the same text does nothing, and a new
text repaints only the lines that differ (consecutive events share most
of their detail's lines; a panel redrawn once a second changes a few).
A text is shown from its first line, or where the pane is scrolled to
(``keep_scroll``: a panel that follows its state as the operator reads it).
Only the lines on screen are rendered.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip

from .steady_scroll import SteadyScrollView


class TextPane(SteadyScrollView, can_focus=True):
    """Lines of text, scrolled with the arrows."""

    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}

    @property
    def text(self) -> Text:
        """What the pane shows, as one text."""
        return Text("\n").join(self._lines)

    def show(self, text: Text | str, *, keep_scroll: bool = False) -> None:
        """Show ``text`` from its first line, or, ``keep_scroll``, from where the pane is scrolled to."""
        text = Text(text) if isinstance(text, str) else text
        self.show_lines(text.split("\n", allow_blank=True) if text.plain else [], keep_scroll=keep_scroll)

    def show_lines(self, lines: list[Text], *, keep_scroll: bool = False) -> None:
        """`show` for a text already in lines (no newlines in them).

        A line that is the very object shown before is known unchanged
        without comparing it: a panel that keeps the lines it built for
        unchanged state costs no comparison for them.
        """
        shown, strips = self._lines, self._strips
        kept = {index for index, (was, now) in enumerate(zip(shown, lines)) if was is now or was == now}
        if len(kept) == len(shown) == len(lines):
            return
        self._lines = list(lines)
        self._strips = {index: strip for index, strip in strips.items() if index in kept}
        self.virtual_size = Size(max((line.cell_len for line in lines), default=0), len(lines))
        if not keep_scroll and self.scroll_offset != (0, 0):
            self.scroll_to(0, 0, animate=False)
            self.refresh()
            return
        self.repaint_rows(index for index in range(max(len(shown), len(lines))) if index not in kept)

    def notify_style_update(self) -> None:
        # A new theme: the kept lines were drawn in the old one's styles.
        self._strips = {}
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        base = self.rich_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            line = self._lines[index]
            console = self.app.console
            # `Text.render` draws a text's own style only under its spans; here it is under every cell.
            style = base + console.get_style(line.style) if line.style else base
            strip = Strip(line.render(console), line.cell_len).apply_style(style)
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)
