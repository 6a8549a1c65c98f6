"""The DAG canvas: chips in layered columns, connectors between them.

The layout comes from `console.layout` and is recomputed only when the
graph's shape changes; the picture (one `Strip` per line) is rebuilt when the
run's state or the selection changes, and `render_line` only crops it, so
scrolling a large graph costs nothing. Above `FULL_EDGE_LIMIT` tasks only
the selected task's edges are drawn. Colours come from component classes
styled with theme variables in ``app.tcss``.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..layout import Layout, graph_shape, layered_layout
from ..safe import visible
from ..state.dag import RunView

FULL_EDGE_LIMIT = 40
GAP = 4
ROW_HEIGHT = 2
MAX_CHIP = 26
MIN_CHIP = 10
MARGIN = 1

GLYPHS = {
    "pending": "○",
    "running": "▶",
    "retrying": "↻",
    "completed": "✓",
    "failed": "✗",
    "skipped": "⊘",
    "cancelled": "■",
}

_UP, _DOWN, _LEFT, _RIGHT = 1, 2, 4, 8
_BOX = {
    _LEFT: "─", _RIGHT: "─", _LEFT | _RIGHT: "─",
    _UP: "│", _DOWN: "│", _UP | _DOWN: "│",
    _DOWN | _RIGHT: "╭", _DOWN | _LEFT: "╮", _UP | _RIGHT: "╰", _UP | _LEFT: "╯",
    _UP | _DOWN | _RIGHT: "├", _UP | _DOWN | _LEFT: "┤",
    _DOWN | _LEFT | _RIGHT: "┬", _UP | _LEFT | _RIGHT: "┴",
    _UP | _DOWN | _LEFT | _RIGHT: "┼",
}


class DagCanvas(ScrollView, can_focus=True):
    """The graph of one run (or of a workflow's spec), with a selected task."""

    COMPONENT_CLASSES = {
        "dag--pending", "dag--running", "dag--retrying", "dag--completed",
        "dag--failed", "dag--skipped", "dag--cancelled",
        "dag--edge", "dag--edge-selected", "dag--selected", "dag--empty",
    }

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Prev column", show=False),
        Binding("right", "move(1, 0)", "Next column", show=False),
        Binding("up", "move(0, -1)", "Prev task", show=False),
        Binding("down", "move(0, 1)", "Next task", show=False),
    ]

    class NodeSelected(Message):
        """The selected task changed (None: nothing to select)."""

        def __init__(self, task: str | None) -> None:
            super().__init__()
            self.task = task

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graph: dict[str, list[str]] = {}
        self.run: RunView | None = None
        self.selected: str | None = None
        self.empty_message = ""
        self._shape: tuple = ()
        self._layout = Layout()
        self._chip_width = MIN_CHIP
        self._lines: list[Strip] = []
        self._drawn_key: tuple = ()
        self._styles: dict[str, Style] = {}

    # -- data -------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        return self._layout

    def show(self, graph: dict[str, list[str]], run: RunView | None, empty_message: str = "") -> None:
        """Draw ``graph`` coloured by ``run``'s task states."""
        shape = graph_shape(graph)
        if shape != self._shape:
            self._shape = shape
            self._layout = layered_layout(graph)
            nodes = self._layout.nodes
            longest = max((cell_len(visible(n)) for n in nodes), default=0)
            self._chip_width = max(MIN_CHIP, min(MAX_CHIP, longest + 4))
            if self.selected not in self._layout.position:
                self.selected = nodes[0] if nodes else None
                self.post_message(self.NodeSelected(self.selected))
        self.graph = graph
        self.run = run
        self.empty_message = empty_message
        self._redraw()

    def select(self, task: str | None) -> None:
        if task == self.selected:
            return
        self.selected = task
        self._redraw()
        self._scroll_to_selected()
        self.post_message(self.NodeSelected(task))

    def status_of(self, task: str) -> str:
        if self.run is None:
            return "pending"
        view = self.run.states.get(task)
        return view.status if view is not None else "pending"

    # -- navigation -------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        layout = self._layout
        if not layout.position:
            return
        if self.selected not in layout.position:
            self.select(layout.nodes[0])
            return
        column, row = layout.position[self.selected]
        if dy:
            tasks = [s for s in layout.columns[column] if isinstance(s, str)]
            index = tasks.index(self.selected) + dy
            if 0 <= index < len(tasks):
                self.select(tasks[index])
            return
        target = column + dx
        while 0 <= target < len(layout.columns):
            tasks = [(r, s) for r, s in enumerate(layout.columns[target]) if isinstance(s, str)]
            if tasks:
                self.select(min(tasks, key=lambda item: (abs(item[0] - row), item[0]))[1])
                return
            target += dx

    def _chip_region(self, task: str) -> Region:
        column, row = self._layout.position[task]
        return Region(self._x(column), self._y(row), self._chip_width, 1)

    def _scroll_to_selected(self) -> None:
        if self.selected in self._layout.position:
            self.scroll_to_region(self._chip_region(self.selected).grow((1, 2, 1, 2)), animate=False)

    # -- drawing ----------------------------------------------------------

    def _x(self, column: int) -> int:
        return MARGIN + column * (self._chip_width + GAP)

    @staticmethod
    def _y(row: int) -> int:
        return MARGIN + row * ROW_HEIGHT

    def on_resize(self) -> None:
        self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        self._drawn_key = ()
        self._redraw()

    def _style(self, name: str) -> Style:
        """The widget's base style plus component ``name`` (cached until the styles change)."""
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = base if name == "base" else base + self.get_component_rich_style(name, default=Style())
            self._styles[name] = style
        return style

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        # Keyed on what the picture shows, so events that change no status cost nothing.
        statuses = tuple(self.status_of(task) for task in self._layout.position)
        key = (self._shape, statuses, self.selected, self.empty_message, self.size.width)
        if key == self._drawn_key and self._lines:
            return
        self._drawn_key = key
        self._lines = self._draw()
        width = max((line.cell_length for line in self._lines), default=0)
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()

    def _draw(self) -> list[Strip]:
        base = self._style("base")
        layout = self._layout
        if not layout.position:
            text = self.empty_message or "no tasks"
            style = self._style("dag--empty")
            return [Strip.blank(0), Strip([Segment(" " + visible(text), style)])]
        width = self._x(len(layout.columns)) + 1
        height = self._y(max(len(c) for c in layout.columns)) + 1
        cells: list[list[tuple[str, Style]]] = [[(" ", base)] * width for _ in range(height)]
        self._draw_edges(cells, base)
        self._draw_chips(cells, base)
        return [_strip(row) for row in cells]

    def _draw_edges(self, cells: list[list[tuple[str, Style]]], base: Style) -> None:
        layout = self._layout
        edge_style = self._style("dag--edge")
        selected_style = self._style("dag--edge-selected")
        only_selected = len(layout.position) > FULL_EDGE_LIMIT
        bits: dict[tuple[int, int], int] = {}
        styles: dict[tuple[int, int], Style] = {}
        arrows: dict[tuple[int, int], Style] = {}
        # Selected edges are drawn last, so their colour wins where lines share cells.
        edges = sorted(layout.routes.items(), key=lambda item: self.selected in item[0])
        for (source, target), route in edges:
            touches = self.selected in (source, target)
            if only_selected and not touches:
                continue
            style = selected_style if touches else edge_style
            for (c1, r1), (_c2, r2) in zip(route, route[1:]):
                self._route_segment(bits, styles, c1, r1, r2, style)
            # The arrowhead goes where the edge reaches its task, not its waypoints.
            end_column, end_row = route[-1]
            arrows[(self._x(end_column) - 1, self._y(end_row))] = style
            for column, row in route[1:-1]:
                y = self._y(row)
                for x in range(self._x(column), self._x(column) + self._chip_width):
                    bits[(x, y)] = bits.get((x, y), 0) | _LEFT | _RIGHT
                    styles[(x, y)] = style
        for (x, y), mask in bits.items():
            cells[y][x] = (_BOX.get(mask, " "), styles[(x, y)])
        for (x, y), style in arrows.items():
            if bits.get((x, y), 0) & (_UP | _DOWN) == 0:
                cells[y][x] = ("▶", style)

    def _route_segment(
        self,
        bits: dict[tuple[int, int], int],
        styles: dict[tuple[int, int], Style],
        column: int,
        r1: int,
        r2: int,
        style: Style,
    ) -> None:
        start = self._x(column) + self._chip_width
        middle = start + GAP // 2
        end = start + GAP - 1
        y1, y2 = self._y(r1), self._y(r2)

        def mark(x: int, y: int, mask: int) -> None:
            bits[(x, y)] = bits.get((x, y), 0) | mask
            styles[(x, y)] = style

        for x in range(start, middle):
            mark(x, y1, _LEFT | _RIGHT)
        if y1 == y2:
            mark(middle, y1, _LEFT | _RIGHT)
        else:
            step = 1 if y2 > y1 else -1
            mark(middle, y1, _LEFT | (_DOWN if step > 0 else _UP))
            for y in range(y1 + step, y2, step):
                mark(middle, y, _UP | _DOWN)
            mark(middle, y2, _RIGHT | (_UP if step > 0 else _DOWN))
        for x in range(middle + 1, end + 1):
            mark(x, y2, _LEFT | _RIGHT)

    def _draw_chips(self, cells: list[list[tuple[str, Style]]], base: Style) -> None:
        selected_style = self.get_component_rich_style("dag--selected")
        for task, (column, row) in self._layout.position.items():
            status = self.status_of(task)
            style = self._style(f"dag--{status}")
            if task == self.selected:
                style = style + selected_style
            x, y = self._x(column), self._y(row)
            end = x + self._chip_width
            for offset in range(self._chip_width):
                cells[y][x + offset] = (" ", style)
            _put(cells[y], x + 1, end - 1, f"{GLYPHS.get(status, '?')} {visible(task)}", style)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)


def _put(row: list[tuple[str, Style]], start: int, end: int, text: str, style: Style) -> None:
    """Write ``text`` into cells ``start..end`` (cut with …), wide characters taking two."""
    if cell_len(text) > end - start:
        while text and cell_len(text) > end - start - 1:
            text = text[:-1]
        text += "…"
    x = start
    for char in text:
        width = cell_len(char)
        if width == 0:
            if x > start:
                previous, previous_style = row[x - 1]
                row[x - 1] = (previous + char, previous_style)
            continue
        row[x] = (char, style)
        if width == 2:
            row[x + 1] = ("", style)
        x += width


def _strip(row: list[tuple[str, Style]]) -> Strip:
    segments: list[Segment] = []
    text: list[str] = []
    current: Style | None = None
    for char, style in row:
        if style is not current and style != current:
            if text:
                segments.append(Segment("".join(text), current))
            text, current = [], style
        text.append(char)
    if text:
        segments.append(Segment("".join(text), current))
    return Strip(segments)
