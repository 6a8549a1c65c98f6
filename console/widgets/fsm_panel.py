"""The state-machines panel.

Left: every instance (machine, instance id, current state, time in state).
Right, for the selected instance: its machine's states and transitions with
the current state highlighted; the events it can take now (``f`` on the
instance table opens this choice; pick one and press ``f`` or enter to fire
it), the events it cannot take with the guard that refuses each; and its
history with times. Firing goes to the engine's
``fire(machine, instance, event)`` off the UI thread and is refused under
``--readonly``; the new state shows when ``fsm.transitioned`` (or
``fsm.blocked`` naming the guard) comes back.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.commands import EngineCommands
from console.safe import safe_text
from console.state import ago, count
from console.state.fsm import CAN_FIRE, GUARDED, REFUSED, FsmInstance, FsmView

from .operator import is_readonly, operate
from .row_table import RowTable
from .table_keys import NavOptionList
from .styling import RestyleOnStyleChange, component_style
from .static_text import show_text

ROW_LIMIT = 500


def _row_key(key: tuple[str, str]) -> str:
    machine, instance = key
    return f"{len(machine)}:{machine}{instance}"


def clock_text(ts: float) -> str:
    """A wall time as ``HH:MM:SS`` (UTC, so recorded sessions draw the same)."""
    return time.strftime("%H:%M:%S", time.gmtime(ts))


class FsmPanel(RestyleOnStyleChange, Vertical):
    """The ``:fsm`` view."""

    BINDINGS = [
        Binding("f", "fire", "Fire event"),
    ]
    CHANGING_ACTIONS = {"fire"}
    COMPONENT_CLASSES = {"fsm--current", "fsm--final", "fsm--can", "fsm--guarded", "fsm--refused",
                         "fsm--muted", "fsm--heading", "fsm--error"}

    # refresh_clock is sync: the drain skips it in a frame that synced the panel.
    CLOCK_IS_SYNC = True

    DEFAULT_CSS = """
    FsmPanel { height: 1fr; }
    FsmPanel .panel-summary { height: 1; padding: 0 1; background: $panel; }
    FsmPanel .panel-split { height: 1fr; }
    FsmPanel #fsm-table { width: 40; height: 1fr; }
    FsmPanel .panel-detail { width: 1fr; border-left: vkey $panel; padding: 0 1; background: $surface; }
    FsmPanel .panel-heading { color: $primary; text-style: bold; margin-top: 1; }
    FsmPanel #fsm-events { height: auto; max-height: 12; border: none; background: $surface; }
    FsmPanel > .fsm--current { color: $accent; text-style: bold; }
    FsmPanel > .fsm--final { color: $success; }
    FsmPanel > .fsm--can { color: $success; }
    FsmPanel > .fsm--guarded { color: $warning; }
    FsmPanel > .fsm--refused { color: $error; }
    FsmPanel > .fsm--muted { color: $foreground-muted; }
    FsmPanel > .fsm--heading { color: $primary; text-style: bold; }
    FsmPanel > .fsm--error { color: $error; text-style: bold; }
    """

    def __init__(self, state: FsmView, **kwargs: Any) -> None:
        kwargs.setdefault("id", "view-fsm")
        super().__init__(**kwargs)
        self.state = state
        self._option_events: list[str] = []
        self._options_shown: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="fsm-summary", classes="panel-summary")
        with Horizontal(classes="panel-split"):
            table = RowTable(id="fsm-table")
            table.add_columns("machine", "instance", "state", "for")
            yield table
            with VerticalScroll(id="fsm-detail", classes="panel-detail"):
                # Time in state ticks every second: it has a Static of its own, so
                # the graph below is not drawn again for it.
                yield Static("", id="fsm-instance")
                yield Static("", id="fsm-graph")
                yield Static("Events: ● can  ◐ guarded  ✕ refused  (f fires)", classes="panel-heading")
                yield NavOptionList(id="fsm-events")
                yield Static("", id="fsm-history")

    def on_mount(self) -> None:
        self.sync()

    def focus_main(self) -> None:
        self.query_one("#fsm-table", RowTable).focus()

    def refresh_clock(self) -> None:
        """Time in state moves with the clock: redraw once a second while shown."""
        self.sync()

    def _style(self, name: str) -> Any:
        return component_style(self, name)

    # -- drawing -----------------------------------------------------------

    def sync(self) -> None:
        table = self.query_one("#fsm-table", RowTable)
        selected = self._selected_key()
        rows = self.state.rows()[:ROW_LIMIT]
        cells = []
        for inst in rows:
            final = self.state.is_final(inst)
            cells.append((_row_key(inst.key), [
                safe_text(inst.machine, max_length=12),
                safe_text(inst.instance, max_length=10),
                safe_text(inst.state, self._style("fsm--final" if final else "fsm--current"), max_length=10),
                Text(ago(self.state.time_in_state(inst))),
            ]))
        table.set_rows(cells, None if selected is None else _row_key(selected))
        machines = len({i.machine for i in rows})
        show_text(self.query_one("#fsm-summary", Static),
            Text(f"{count(len(self.state.instances), 'instance')} of {count(machines, 'machine')}")
        )
        self._draw_detail()

    def _selected_key(self) -> tuple[str, str] | None:
        inst = self.selected()
        return None if inst is None else inst.key

    def selected(self) -> FsmInstance | None:
        table = self.query_one("#fsm-table", RowTable)
        key = table.cursor_key
        if key is None:
            return None
        return next((inst for inst in self.state.instances.values() if _row_key(inst.key) == key), None)

    def _draw_detail(self) -> None:
        inst = self.selected()
        heading = self.query_one("#fsm-instance", Static)
        graph = self.query_one("#fsm-graph", Static)
        events = self.query_one("#fsm-events", OptionList)
        history = self.query_one("#fsm-history", Static)
        if inst is None:
            events.clear_options()
            self._option_events = []
            self._options_shown = None
            show_text(heading, Text("No state machine instances yet.", style=self._style("fsm--muted")))
            show_text(graph, "")
            show_text(history, "")
            return
        show_text(heading, self._heading_text(inst))
        show_text(graph, self._graph_text(inst))
        show_text(history, self._history_text(inst))
        labels: list[tuple[str, Text, bool]] = []
        for option in self.state.options(inst):
            label = Text()
            symbol, klass = {
                CAN_FIRE: ("● ", "fsm--can"), GUARDED: ("◐ ", "fsm--guarded"), REFUSED: ("✕ ", "fsm--refused"),
            }.get(option.status, ("· ", "fsm--muted"))
            label.append(symbol, style=self._style(klass))
            label.append_text(safe_text(option.event, max_length=30))
            if option.target is not None:
                label.append(" → ")
                label.append_text(safe_text(option.target, max_length=24))
            if option.status == REFUSED:
                label.append(": refused by ", style=self._style("fsm--refused"))
                label.append_text(safe_text(self.state.refusing_guard(inst, option) or "guard", max_length=30))
            elif option.status == GUARDED:
                label.append(": guard ", style=self._style("fsm--guarded"))
                label.append_text(safe_text(option.guard or "", max_length=30))
            elif option.status != CAN_FIRE:
                label.append(": ", style=self._style("fsm--muted"))
                label.append_text(safe_text(option.status, self._style("fsm--muted"), max_length=40))
            labels.append((option.event, label, option.status not in (CAN_FIRE, GUARDED, REFUSED)))
        shown = (inst.key, tuple((name, label.plain, repr(label.spans), off) for name, label, off in labels))
        if shown == self._options_shown:
            return
        self._options_shown = shown
        highlighted = events.highlighted
        events.clear_options()
        events.add_options([Option(label, disabled=off) for _, label, off in labels])
        self._option_events = [name for name, _, _ in labels]
        if highlighted is not None and highlighted < len(self._option_events):
            events.highlighted = highlighted

    def _heading_text(self, inst: FsmInstance) -> Text:
        out = Text()
        out.append("Instance ", style=self._style("fsm--heading"))
        out.append_text(safe_text(f"{inst.machine} / {inst.instance}", max_length=80))
        out.append("   in ")
        out.append_text(safe_text(inst.state, self._style("fsm--current"), max_length=40))
        out.append(f" for {ago(self.state.time_in_state(inst))}")
        if inst.last_error:
            out.append("\nlast action failed: ", style=self._style("fsm--error"))
            out.append_text(safe_text(inst.last_error, max_length=200))
        return out

    def _graph_text(self, inst: FsmInstance) -> Text:
        out = Text()
        out.append("\nStates and transitions\n", style=self._style("fsm--heading"))
        final = {str(s) for s in (self.state.spec(inst.machine) or {}).get("final") or ()}
        transitions = self.state.transitions(inst.machine)
        for state in self.state.states(inst.machine):
            current = state == inst.state
            marker = "▶ " if current else ("◎ " if state in final else "  ")
            style = self._style("fsm--current") if current else (self._style("fsm--final") if state in final else "")
            out.append(marker, style=style)
            out.append_text(safe_text(state, style, max_length=40))
            outgoing = [t for t in transitions if str(t.get("from")) == state]
            for t in outgoing:
                out.append("\n      ─")
                out.append_text(safe_text(t.get("event"), max_length=30))
                out.append("→ ")
                out.append_text(safe_text(t.get("to"), max_length=30))
                if t.get("guard"):
                    out.append("  [guard ")
                    out.append_text(safe_text(t.get("guard"), max_length=30))
                    out.append("]")
            out.append("\n")
        wildcard = [t for t in transitions if str(t.get("from")) == "*"]
        for t in wildcard:
            out.append("  * ─")
            out.append_text(safe_text(t.get("event"), max_length=30))
            out.append("→ ")
            out.append_text(safe_text(t.get("to"), max_length=30))
            out.append("  (from any state)\n")
        return out

    def _history_text(self, inst: FsmInstance) -> Text:
        out = Text()
        out.append("\nHistory\n", style=self._style("fsm--heading"))
        for entry in reversed(inst.history[-50:]):
            out.append(clock_text(entry.time) + "  ", style=self._style("fsm--muted"))
            if entry.source is not None and entry.event is not None:
                out.append_text(safe_text(entry.source, max_length=30))
                out.append(" ─")
                out.append_text(safe_text(entry.event, max_length=30))
                out.append("→ ")
            out.append_text(safe_text(entry.target, max_length=30))
            if entry.note:
                out.append("  ")
                out.append_text(safe_text(entry.note, self._style("fsm--muted"), max_length=120))
            out.append("\n")
        return out

    # -- events and actions ------------------------------------------------

    def on_row_table_row_highlighted(self, event: RowTable.RowHighlighted) -> None:
        event.stop()
        self._draw_detail()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_fire()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGING_ACTIONS and is_readonly(self):
            return False
        return True

    def action_fire(self) -> None:
        inst = self.selected()
        events = self.query_one("#fsm-events", OptionList)
        if inst is not None and not events.has_focus:
            self._choose_event(events)
            return
        index = events.highlighted
        if inst is None or index is None or index >= len(self._option_events):
            self.app.notify("Pick an instance and an event to fire.", severity="warning", markup=False)
            return
        name = self._option_events[index]
        operate(self, f"fire {name} on {inst.instance}", EngineCommands.fire, inst.machine, inst.instance, name)

    def _choose_event(self, events: OptionList) -> None:
        """Open the event choice of the selected instance: focus it, on the first event it can take."""
        events.focus()
        enabled = [i for i in range(events.option_count) if not events.get_option_at_index(i).disabled]
        if enabled and (events.highlighted is None or events.highlighted not in enabled):
            events.highlighted = enabled[0]
