"""The app's drain: engine events, buffered by the bridge, onto the screen.

`BridgeDrain` is the part of `console.app.FlowConsoleApp` that its two
timers run on the UI thread: every `DRAIN_INTERVAL` the bridge's buffer goes
through the view-state reducers (`_fold`), and every `FRAME_INTERVAL` one
frame (`_frame`) folds what is left and refreshes, in one batch, only the
widgets whose state changed (a view not on screen is only marked stale and
synced when shown) and, in the same frame,
what moves with the clock: the header, sidebar and current view redraw their
ages and rates, and the header the database's size (one stat of the file and
its log). The store banner follows
``store.failed`` / ``store.recovered`` with every header redraw. Nothing here
takes a lock: engine threads only ever touch the bridge's buffer.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget
from textual.widgets import Static

from .bridge import EventBridge
from .safe import visible
from .state.vitals import VitalsState
from .state.workflows import WorkflowsState
from .views import VIEWS
from .widgets.header_vitals import HeaderVitals
from .widgets.store_banner import StoreBanner
from .widgets.workflow_list import WorkflowList

# How often new events are folded into the view states between frames: a
# flood is folded in slices of a fifth of a second, so a key waits for no
# more than one slice, and the buffer stays short. Folding more often shows
# nothing sooner (the screen follows on the frame) and each wake of the UI
# thread costs about as much as folding a handful of events.
DRAIN_INTERVAL = 1 / 5
# How often the screen follows the engine: once a second, for the events and
# the clocks together. Ages count in seconds, so a faster frame shows nothing
# more; each frame costs a render of the header, sidebar and view, so two a
# second would cost twice as much. Keys and operator actions are drawn at
# once, not on this beat.
FRAME_INTERVAL = 1.0


class BridgeDrain:
    """Drain and clock ticks of the console (mixed into `FlowConsoleApp`, which owns the widgets)."""

    # Provided by FlowConsoleApp (and Textual's App).
    bridge: EventBridge
    readonly: bool
    current_view: str
    selected_workflow: str | None
    workflows_state: WorkflowsState
    vitals_state: VitalsState
    view_widgets: dict[str, Widget]
    _state_views: dict[int, str]
    _stale_views: set[str]
    _unshown: dict[int, Any]
    _header: HeaderVitals
    _store_banner: StoreBanner
    _db_size: int | None
    engine: Any
    _sidebar: WorkflowList
    _workflow_detail: Static
    _workflow_detail_shown: Any
    is_running: bool
    batch_update: Any
    notify: Any

    def _sync_all(self) -> None:
        self._sidebar.sync()
        for alias in self.view_widgets:
            self._sync_view(alias)
        self._show_header()
        self._show_notices()

    def _can_draw(self) -> bool:
        # A timer may fire once more while the app shuts down and its widgets
        # are being removed; there is nothing left to draw then.
        return bool(self.is_running and self._sidebar.is_mounted)

    def _fold(self) -> None:
        """Hand the bridge's buffer to the view states; what changed is drawn in the next frame."""
        if not self._can_draw():
            return
        for state in self.bridge.pump():
            self._unshown[id(state)] = state

    def _frame(self) -> None:
        """Draw what changed since the last frame, and what moves with the clock."""
        if not self._can_draw():
            return
        self._fold()
        with self.batch_update():
            synced = self._redraw_changed() if self._unshown else set()
            self._tick(sync_sidebar="sidebar" not in synced, view_synced=self.current_view in synced)
            self._show_header()

    def _redraw_changed(self) -> set[str]:
        """Redraw what the states changed since the last redraw; returns what was ("sidebar", view aliases)."""
        changed, self._unshown = list(self._unshown.values()), {}
        synced: set[str] = set()
        for state in changed:
            if state is self.workflows_state:
                self._sidebar.sync()
                self._show_workflow_detail()
                self._show_notices()
                synced.add("sidebar")
                continue
            alias = self._state_views.get(id(state))
            if alias is None:
                continue
            if alias == self.current_view:
                self._sync_view(alias)
                synced.add(alias)
            else:
                self._stale_views.add(alias)
        return synced

    def _mark_unshown_stale(self) -> None:
        """Views whose states changed since the last redraw are stale: a view shown now is drawn fresh."""
        for key, state in list(self._unshown.items()):
            alias = self._state_views.get(key)
            if alias is not None:
                self._stale_views.add(alias)
                del self._unshown[key]

    def _tick(self, *, sync_sidebar: bool = True, view_synced: bool = False) -> None:
        """Once a frame: what moves with the clock ("4s ago", rates), and the database's size.

        A view whose clock redraw is its whole `sync` (``CLOCK_IS_SYNC``) and
        that was synced in this frame already shows the time: it is not drawn twice.
        """
        self.vitals_state.tick()
        store = getattr(self.engine, "store", None)
        self._db_size = store.size_bytes() if store is not None else None
        if sync_sidebar:
            self._sidebar.sync()
        widget = self.view_widgets.get(self.current_view)
        if view_synced and getattr(widget, "CLOCK_IS_SYNC", False):
            return
        refresh_clock = getattr(widget, "refresh_clock", None)
        if refresh_clock is not None:
            refresh_clock()

    def _sync_view(self, alias: str) -> None:
        self._stale_views.discard(alias)
        sync = getattr(self.view_widgets[alias], "sync", None)
        if sync is not None:
            sync()

    def _show_header(self) -> None:
        self._header.show(
            dropped=self.bridge.dropped,
            readonly=self.readonly,
            views=[(view.key, view.alias) for view in VIEWS],
            current_view=self.current_view,
            db_size=self._db_size,
        )
        self._store_banner.show(self.vitals_state.store_failure)

    def _show_notices(self) -> None:
        for notice in self.workflows_state.take_notices():
            self.notify(
                visible(notice.message, multiline=True, max_length=500),
                title=visible(notice.title, max_length=120),
                severity=notice.severity,  # type: ignore[arg-type]
                markup=False,
            )

    def _show_workflow_detail(self) -> None:
        detail = self._sidebar.describe(self.selected_workflow)
        # Runs change the sidebar, rarely the detail: an unchanged one costs no layout.
        if detail != self._workflow_detail_shown:
            self._workflow_detail_shown = detail
            self._workflow_detail.update(detail)
