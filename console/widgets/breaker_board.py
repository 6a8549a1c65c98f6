"""The circuit-breaker board (after the Hystrix dashboard).

One tile per breaker, sorted by error rate then volume: state, what it
counts in its mode (failures in a row against the threshold, or the failure
rate and the calls in the window against the minimum), rejections, half-open probes used
of those permitted, time until it may half-open, a sparkline of outcomes
over the last two minutes (height: calls per second; colour: share failed),
p50 and p99 latency. Arrows pick a tile; ``o`` force open, ``c`` force
closed, ``x`` reset, each after the operator gives a reason (recorded with the
operator's name), off the UI thread, refused under
``--readonly``. While shown, the board reads the registry's snapshots once a
second (the app's clock tick; the counters have no event per call).
"""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.commands import EngineCommands
from console.safe import safe_text
from console.state import count, duration
from console.state.breakers import BreakerBoardState, BreakerTile

from .operator import is_readonly, operate
from .reason_dialog import ReasonDialog
from .styling import RestyleOnStyleChange, component_style
from .table_keys import NAV_BINDINGS, TableKeys
from .static_text import show_text

BARS = " ▁▂▃▄▅▆▇█"
SPARK_WIDTH = 30
_CHANGING = {"force_open", "force_closed", "reset"}


def sparkline(values: list[float], width: int, *, capacity: int | None = None, dropped: int = 0) -> list[tuple[str, float]]:
    """``values`` squeezed into ``width`` buckets: (bar character, bucket max).

    Without ``capacity`` the buckets split ``values`` as they are. With it
    (the most values there will be), each bucket holds a fixed stretch of
    time: ``dropped`` values came before ``values[0]``, buckets start at
    multiples of their size in that count, and the oldest bucket, once part
    of it has been dropped, is not drawn. A bar then changes only when a
    value falls in it, and the line moves by a whole bar, so a quiet series
    draws the same line from one read to the next.
    """
    if capacity is None:
        size, first = max(1, -(-len(values) // width)), 0
    else:
        size = max(1, -(-capacity // width))
        first = -dropped % size
    buckets = [values[i:i + size] for i in range(first, len(values), size)][-width:]
    if not buckets:
        return [(" ", 0.0)] * width
    peak = max((max(b) for b in buckets), default=0.0) or 1.0
    out = []
    for bucket in buckets:
        top = max(bucket)
        index = 0 if top <= 0 else max(1, round(top / peak * (len(BARS) - 1)))
        out.append((BARS[index], top))
    return [(" ", 0.0)] * (width - len(out)) + out


class BreakerBoard(TableKeys, RestyleOnStyleChange, Vertical):
    """The ``:cb`` view."""

    BINDINGS = [
        Binding("left,up", "move(-1)", "Previous", show=False),
        Binding("right,down", "move(1)", "Next", show=False),
        Binding("o", "force_open", "Force open"),
        Binding("c", "force_closed", "Force closed"),
        Binding("x", "reset", "Reset"),
        *NAV_BINDINGS,
    ]
    CHANGING_ACTIONS = _CHANGING
    COMPONENT_CLASSES = {"cb--closed", "cb--open", "cb--half-open", "cb--forced", "cb--ok", "cb--warn",
                         "cb--bad", "cb--muted", "cb--heading"}
    can_focus = True
    DEFAULT_CSS = """
    BreakerBoard { height: 1fr; }
    BreakerBoard:focus { background-tint: $primary 4%; }
    BreakerBoard .panel-summary { height: 1; padding: 0 1; background: $panel; }
    BreakerBoard #cb-grid { height: 1fr; layout: grid; grid-size: 2; grid-gutter: 0 1; grid-rows: 7; }
    BreakerBoard .cb-tile { height: 7; border: round $panel; padding: 0 1; background: $surface; }
    BreakerBoard .cb-tile.-open { border: round $error; }
    BreakerBoard .cb-tile.-half-open { border: round $warning; }
    BreakerBoard .cb-tile.-selected { border: double $accent; }
    BreakerBoard > .cb--closed { color: $success; text-style: bold; }
    BreakerBoard > .cb--open { color: $error; text-style: bold; }
    BreakerBoard > .cb--half-open { color: $warning; text-style: bold; }
    BreakerBoard > .cb--forced { color: $accent; }
    BreakerBoard > .cb--ok { color: $success; }
    BreakerBoard > .cb--warn { color: $warning; }
    BreakerBoard > .cb--bad { color: $error; }
    BreakerBoard > .cb--muted { color: $foreground-muted; }
    BreakerBoard > .cb--heading { color: $foreground; text-style: bold; }
    """

    def __init__(self, state: BreakerBoardState, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-cb")
        super().__init__(**kwargs)
        self.state = state
        self.cursor = 0
        self._polling = False
        self._tiles: list[Static] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="cb-summary", classes="panel-summary")
        yield VerticalScroll(id="cb-grid")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.focus()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    # -- polling -------------------------------------------------------------

    def refresh_clock(self) -> None:
        """Called once a second while the board is shown: read fresh snapshots."""
        self.sync()
        if self._polling or getattr(self.app, "engine", None) is None:
            return
        self._polling = True
        operate(self, "read breakers", EngineCommands.breaker_snapshots, done=self._absorb, failed=self._poll_failed, changes=False)

    def _poll_failed(self, error: BaseException) -> None:
        self._polling = False

    def _absorb(self, snapshots: Any) -> None:
        try:
            if isinstance(snapshots, list) and self.state.apply_snapshots(snapshots):
                self.sync()
        finally:
            self._polling = False

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        tiles = self.state.ordered()
        grid = self.query_one("#cb-grid", VerticalScroll)
        while len(self._tiles) < len(tiles):
            tile = Static("", classes="cb-tile")
            self._tiles.append(tile)
            grid.mount(tile)
        while len(self._tiles) > len(tiles):
            self._tiles.pop().remove()
        self.cursor = min(self.cursor, max(0, len(tiles) - 1))
        for index, (widget, tile) in enumerate(zip(self._tiles, tiles)):
            show_text(widget, self._tile_text(tile))
            widget.set_class(index == self.cursor, "-selected")
            widget.set_class(tile.state == "open", "-open")
            widget.set_class(tile.state == "half_open", "-half-open")
        opened = sum(1 for t in tiles if t.state == "open")
        summary = Text(f"{count(len(tiles), 'breaker')}, {opened} open   sorted by error rate, then volume")
        if not tiles:
            summary = Text("No circuit breakers yet.")
        show_text(self.query_one("#cb-summary", Static), summary)

    def selected(self) -> BreakerTile | None:
        tiles = self.state.ordered()
        return tiles[self.cursor] if tiles else None

    def _tile_text(self, tile: BreakerTile) -> Text:
        state_class = {"open": "cb--open", "half_open": "cb--half-open"}.get(tile.state, "cb--closed")
        out = Text()
        out.append_text(safe_text(tile.name, self._style("cb--heading"), max_length=20))
        out.append(" ")
        out.append_text(safe_text(tile.state.replace("_", "-").upper(), self._style(state_class), max_length=12))
        if tile.override:
            out.append_text(safe_text(" " + tile.override.split("_")[0], self._style("cb--forced"), max_length=12))
        out.append("\n")
        out.append_text(self._counted_text(tile))
        probes = "-" if tile.half_open_max_calls is None else str(tile.half_open_max_calls)
        wait = self.state.time_until_half_open(tile)
        out.append(f"\nrej {tile.rejections}  probes {tile.probes_in_flight}/{probes}")
        out.append("  ½-open " + (f"{wait:.0f}s" if wait is not None else "-"))
        out.append("\n")
        shares = self.state.outcomes(tile)
        for (char, _), share in zip(sparkline(self.state.volume(tile), SPARK_WIDTH),
                                    _squeeze(shares, SPARK_WIDTH)):
            klass = "cb--bad" if share >= 0.5 else "cb--warn" if share > 0 else "cb--ok"
            out.append(char, style=self._style(klass))
        out.append(" 2m", style=self._style("cb--muted"))
        out.append(f"\np50 {duration(tile.p50)}  p99 {duration(tile.p99)}")
        return out

    def _counted_text(self, tile: BreakerTile) -> Text:
        """What the breaker counts to decide: failures in a row, or rates over its window."""
        if tile.mode == "consecutive":
            threshold = tile.failure_threshold
            ratio = tile.consecutive_failures / threshold if threshold else 0.0
            klass = "cb--bad" if ratio >= 1 else "cb--warn" if tile.consecutive_failures else "cb--ok"
            out = Text(f"{tile.consecutive_failures}/{'-' if threshold is None else threshold}",
                       style=self._style(klass))
            out.append(" consecutive failures")
            return out
        rate_class = "cb--bad" if tile.failure_rate >= 50 else "cb--warn" if tile.failure_rate > 0 else "cb--ok"
        out = Text("fail ")
        out.append(f"{tile.failure_rate:.1f}%", style=self._style(rate_class))
        minimum = "-" if tile.minimum_calls is None else str(tile.minimum_calls)
        out.append(f"  window {tile.window_calls} calls (min {minimum})")
        return out

    # -- actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGING_ACTIONS and is_readonly(self):
            return False
        return True

    def action_move(self, step: int) -> None:
        tiles = self.state.ordered()
        if tiles:
            self.cursor = (self.cursor + step) % len(tiles)
            self.sync()
            self._tiles[self.cursor].scroll_visible(animate=False)

    # The shared table keys (j/k, g/G, ctrl+d/u, y) move between tiles.

    def nav_count(self) -> int:
        return len(self.state.ordered())

    def nav_index(self) -> int:
        return self.cursor if self.state.ordered() else -1

    def nav_go(self, index: int) -> None:
        self.action_move(index - self.cursor)

    def nav_page(self) -> int:
        grid = self.query_one("#cb-grid", VerticalScroll)
        return max(1, grid.scrollable_content_region.height // 7) * 2

    def nav_key(self) -> str | None:
        tile = self.selected()
        return None if tile is None else tile.name

    def _ask_reason(self, verb: str, command: Callable[..., Any]) -> None:
        """Ask why (recorded in the breaker's audit trail), then send the command."""
        tile = self.selected()
        if tile is None or is_readonly(self):
            return
        name = tile.name

        def answered(reason: str | None) -> None:
            self.focus_main()
            if reason:
                operate(self, f"{verb} breaker {name}", command, name, reason)

        self.app.push_screen(ReasonDialog(f"{verb.capitalize()} breaker {name}: why?"), answered)

    def action_force_open(self) -> None:
        self._ask_reason("force open", EngineCommands.breaker_force_open)

    def action_force_closed(self) -> None:
        self._ask_reason("force closed", EngineCommands.breaker_force_closed)

    def action_reset(self) -> None:
        self._ask_reason("reset", EngineCommands.breaker_reset)


def _squeeze(values: list[float], width: int) -> list[float]:
    if not values:
        return [0.0] * width
    size = max(1, -(-len(values) // width))
    buckets = [max(values[i:i + size]) for i in range(0, len(values), size)][-width:]
    return [0.0] * (width - len(buckets)) + buckets
