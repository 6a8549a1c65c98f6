"""The flowconsole app: header, sidebar, one pane per view, command line, footer.

Everything shown comes from engine events: the `EventBridge` buffers them
and one UI timer (5 Hz) drains the buffer into the view-state reducers; once
a second another draws a frame that refreshes, in one batch, only the widgets
whose state changed. Operator
commands go to the engine's public API through `EngineCommands`, each in a
worker thread (`perform`), and are refused under ``readonly``.

The app is put together from mixins, one job each: the drain and clock
ticks in `console.drain`, the ``:`` command line in `console.colon_commands`,
the engine commands and the read-only refusal in `console.engine_actions`.
This module keeps the layout, start-up, navigation, help and themes.
"""

from __future__ import annotations

import gc

import signal
import threading
from pathlib import Path
from typing import Any, Iterable, Sequence

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, OptionList, Static

from engine import Clock, Event, EventBus
from engine.clock import SYSTEM_CLOCK

from .bridge import EventBridge
from .colon_commands import ColonCommands
from .commands import EngineCommands
from .drain import DRAIN_INTERVAL, FRAME_INTERVAL, BridgeDrain
from .engine_actions import CHANGING_ACTIONS, EngineActions
from .help_rows import binding_rows
from .palette import FlowCommands
from .safe import visible
from .state import ViewState
from .state.vitals import VitalsState
from .state.workflows import WorkflowsState
from .terminal_exit import exit_on_signals, stdin_tty, terminal_gone
from .themes import load_themes, resolve_theme
from .views import VIEWS, by_alias
from .widgets.command_line import CommandLine
from .widgets.header_vitals import HeaderVitals
from .widgets.help_screen import HelpScreen
from .widgets.key_footer import KeyFooter
from .widgets.store_banner import StoreBanner
from .widgets.workflow_list import WorkflowList


# How often an attached console checks on its engine: a dead owner shows within this.
ATTACHMENT_INTERVAL = 0.25
# How often a console run from the command line checks that its terminal is still there.
TERMINAL_CHECK_INTERVAL = 1.0


class UnknownThemeError(ValueError):
    """A theme was asked for by a name no theme file defines."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown theme {name!r} (known: {', '.join(self.known)})")


class FlowConsoleApp(BridgeDrain, ColonCommands, EngineActions, App[int]):
    """The operations console on one engine (or on recorded events)."""

    # Absolute, so subclasses defined elsewhere (tests, benchmarks) find it.
    CSS_PATH = [str(Path(__file__).with_name("app.tcss")), str(Path(__file__).with_name("narrow.tcss"))]
    # Below 100 columns the screen gets `-narrow`: see narrow.tcss.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    TITLE = "flowconsole"
    # The view's main widget takes focus (see _focus_view), not the first focusable one.
    AUTO_FOCUS = None
    COMMANDS = App.COMMANDS | {FlowCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("colon", "command_line", "Command", key_display=":"),
        Binding("r", "run_workflow", "Run workflow"),
        Binding("ctrl+r", "reload", "Reload files"),
        Binding("escape", "back", "Back", show=False),
        *(Binding(view.key, f"show_view('{view.alias}')", f"{view.title} view", show=False) for view in VIEWS),
    ]

    selected_workflow: reactive[str | None] = reactive(None)
    current_view: reactive[str] = reactive(VIEWS[0].alias if VIEWS else "")

    def __init__(
        self,
        engine: Any | None = None,
        *,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        readonly: bool = False,
        theme: str | None = None,
        recorded_events: Sequence[Event] | None = None,
        start_engine: bool = False,
        commands: Any | None = None,
        actor: str | None = None,
        watch_terminal: bool = False,
    ) -> None:
        # Themes first: App.__init__ builds the stylesheet's variables from them.
        self.flow_themes = load_themes()
        start_theme = resolve_theme(theme, self.flow_themes)
        if start_theme is None:
            raise UnknownThemeError(str(theme), self.flow_themes)
        self.start_theme = start_theme
        super().__init__()
        self.engine = engine
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        self.readonly = readonly
        # From the command line: leave on SIGTERM/SIGHUP or a vanished terminal (console.terminal_exit).
        self.watch_terminal = watch_terminal
        self._tty: int | None = None
        # An attached console passes the commands that go to the owner of its state directory;
        # the audit trail names the operator for every action: the OS user unless given.
        self.commands = commands if commands is not None else EngineCommands(engine, actor=actor)
        # With start_engine the engine loads its files on a thread of its own,
        # so a slow load never holds up the screen.
        self._engine_starter = (
            threading.Thread(target=self._start_engine, name="flowconsole-engine-start", daemon=True)
            if start_engine and engine is not None
            else None
        )
        for flow_theme in self.flow_themes.values():
            self.register_theme(flow_theme)
        # Before the first render: widgets that cache rendered lines must
        # never see the default theme.
        self.theme = self.start_theme

        self.workflows_state = WorkflowsState(self.clock)
        self.vitals_state = VitalsState(self.clock)
        self.view_states: dict[str, ViewState] = {view.alias: view.state(self.clock) for view in VIEWS}
        self.view_widgets: dict[str, Widget] = {}
        for view in VIEWS:
            widget = view.widget(self.view_states[view.alias])
            if widget.id is None:
                widget.id = f"view-{view.alias}"
            self.view_widgets[view.alias] = widget
        self._state_views = {id(state): alias for alias, state in self.view_states.items()}
        self._stale_views: set[str] = set()
        # States changed since the last redraw (by id).
        self._unshown: dict[int, Any] = {}
        self._history: list[str] = []

        # Kept by reference: the timers use them, and must not query a screen
        # that is being torn down.
        self._header = HeaderVitals(self.workflows_state, self.vitals_state, id="header")
        self._store_banner = StoreBanner(id="store-banner")
        self._db_size: int | None = None
        self._sidebar = WorkflowList(self.workflows_state, id="workflow-list")
        self._workflow_detail = Static(id="workflow-detail")
        self._workflow_detail_shown: Text | None = None

        self.bridge = EventBridge()
        for state in (self.workflows_state, self.vitals_state, *self.view_states.values()):
            self.bridge.register(state)
        if recorded_events:
            self.bridge.feed(recorded_events)
        source = bus if bus is not None else getattr(engine, "bus", None)
        if source is not None:
            self.bridge.attach(source)
        # Reloads that happened before the console opened are history, not news.
        self.workflows_state.take_notices()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # The stylesheet is parsed before on_mount sets the theme, so the
        # app's own variables need values from the start: the start theme's.
        return dict(self.flow_themes[self.start_theme].variables)

    # -- layout -----------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._store_banner
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield self._sidebar
                with VerticalScroll(id="workflow-detail-scroll"):
                    yield self._workflow_detail
            with ContentSwitcher(initial=self._view_id(self.current_view), id="main"):
                yield from self.view_widgets.values()
        commands = [view.alias for view in VIEWS] + ["run", "reload", "help", "quit"]
        commands += [f"theme {name}" for name in self.flow_themes]
        yield CommandLine(commands, id="command-line")
        yield KeyFooter()

    def _view_id(self, alias: str) -> str | None:
        widget = self.view_widgets.get(alias)
        return widget.id if widget is not None else None

    def on_load(self) -> None:
        # Loading runs beside the first frame: checking the files happens in
        # a child process, so most of it costs the UI thread nothing.
        if self._engine_starter is not None:
            self._engine_starter.start()

    def on_mount(self) -> None:
        self._sync_all()
        self.set_interval(DRAIN_INTERVAL, self._fold, name="bridge-drain")
        self.set_interval(FRAME_INTERVAL, self._frame, name="frame")
        if callable(getattr(self.engine, "attachment", None)):
            self._show_attachment()
            self.set_interval(ATTACHMENT_INTERVAL, self._show_attachment, name="attachment")
        if self.watch_terminal:
            exit_on_signals(self)
            self._tty = stdin_tty()
            self.set_interval(TERMINAL_CHECK_INTERVAL, self._leave_if_terminal_gone, name="terminal-check")
        self._focus_view()
        self.call_after_refresh(_settle_heap)

    def _leave_if_terminal_gone(self) -> None:
        if self.is_running and terminal_gone(self, self._tty):
            self.exit(None, 128 + signal.SIGHUP)

    def _start_engine(self) -> None:
        try:
            self.engine.start()
            _settle_heap()
        except Exception as exc:  # noqa: BLE001 - shown to the operator, the console stays up
            message = visible(f"{type(exc).__name__}: {exc}", max_length=300)
            self.call_from_thread(self.notify, message, title="engine failed to start", severity="error", markup=False)

    def _show_attachment(self) -> None:
        """Say in the header which engine an attached console follows, or that it is gone."""
        attachment = self.engine.attachment()
        self._header.show_attachment(visible(attachment.label(), max_length=80), live=attachment.live)

    def wait_engine_started(self, timeout: float | None = None) -> None:
        """Wait for the engine's start-up thread (if any) to finish."""
        if self._engine_starter is not None and self._engine_starter.is_alive():
            self._engine_starter.join(timeout)

    # -- the sidebar ------------------------------------------------------

    def on_option_list_option_highlighted(self, message: OptionList.OptionHighlighted) -> None:
        if message.option_list.id == "workflow-list":
            self.selected_workflow = message.option.id
            self._show_workflow_detail()

    def workflow_names(self) -> list[str]:
        """The workflows the console knows, in sidebar order."""
        return list(self.workflows_state.workflows)

    # -- views and navigation ----------------------------------------------

    def action_show_view(self, alias: str, remember: bool = True) -> None:
        if by_alias(alias) is None:
            self.notify(f"no view :{visible(alias)}", severity="error", markup=False)
            return
        if alias != self.current_view and remember:
            self._history.append(self.current_view)
        self.current_view = alias
        self.query_one(ContentSwitcher).current = self._view_id(alias)
        self._mark_unshown_stale()
        if alias in self._stale_views:
            self._sync_view(alias)
        self._show_header()
        self._focus_view()

    def _focus_view(self) -> None:
        widget = self.view_widgets.get(self.current_view)
        focus_main = getattr(widget, "focus_main", None)
        if focus_main is not None:
            focus_main()
        elif widget is not None:
            widget.focus()

    async def on_event(self, event: events.Event) -> None:
        # A key acts on what the states hold now: changes still waiting for
        # the next frame (at most FRAME_INTERVAL away) are drawn first.
        if isinstance(event, events.Key) and self._unshown and self._sidebar.is_mounted:
            self._redraw_changed()
        await super().on_event(event)

    def push_screen(self, screen: Any, callback: Any = None, wait_for_dismiss: bool = False) -> Any:
        """Push ``screen``; when a dialog closes, focus goes back to the view's main widget.

        Textual gives focus back to what had it, which may be a detail pane
        of the view (where the arrows scroll the pane, not the table the
        dialog's action used).
        """
        if wait_for_dismiss or not isinstance(screen, ModalScreen):
            return super().push_screen(screen, callback, wait_for_dismiss=wait_for_dismiss)

        def closed(result: Any) -> None:
            self.call_after_refresh(self._refocus_view)
            if callback is not None:
                callback(result)

        return super().push_screen(screen, closed)

    def _refocus_view(self) -> None:
        """After a dialog: the view's main widget takes focus, if focus is still in the view.

        This runs after the next refresh, which on an idle screen may come
        after a key that moved focus on purpose (``:`` opens the command line).
        """
        view = self.view_widgets.get(self.current_view)
        focused = self.focused
        if focused is None or (view is not None and view in focused.ancestors_with_self):
            self._focus_view()

    def action_back(self) -> None:
        if self._history:
            self.action_show_view(self._history.pop(), remember=False)
        else:
            self._focus_view()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.binding_rows()))

    def binding_rows(self) -> list[tuple[str, str, str]]:
        """Every key binding the operator can use now, for the help screen."""
        return binding_rows(self, CHANGING_ACTIONS)

    # -- themes -------------------------------------------------------------

    def switch_theme(self, name: str) -> None:
        if name not in self.flow_themes:
            known = ", ".join(self.flow_themes)
            self.notify(f"unknown theme {visible(name, max_length=60)} (known: {known})", severity="error", markup=False)
            return
        self.theme = name


def _settle_heap() -> None:
    """Exempt what start-up built (widgets, modules, loaded workflows) from GC scans.

    A full collection walks every object alive; under a flood of events one
    came every second or so and took up to 90 ms of the UI thread, the tail
    of the key latency. Frozen, the start-up objects are skipped (about 25 ms).
    """
    gc.freeze()
