"""The registry of the console's views.

Each entry names a view's number key, its ``:`` alias, its title, a widget
factory and a state factory. The app builds its main area (one pane per
view in a ``ContentSwitcher``), the number-key bindings and the ``:``
aliases from this list, feeds each state every event batch, and calls the
widget's ``sync()`` when its state changed. Only views that exist are
listed.

Contract for a view widget: ``factory(state) -> Widget``; the widget keeps
the state, draws from it in ``sync()`` (called on the UI thread, at most once
per drain tick, and when the view is shown), and may watch
``app.selected_workflow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from engine import Clock

from .state import ViewState
from .state.dag import DagState
from .state.events_log import EventsLogState


@dataclass(frozen=True)
class ViewSpec:
    """One view: key digit, ``:`` alias, title, widget and state factories."""

    key: str
    alias: str
    title: str
    widget: Callable[[Any], Any]
    state: Callable[[Clock], ViewState]


def _dag_widget(state: DagState) -> Any:
    from .widgets.dag_view import DagView

    return DagView(state)


def _events_widget(state: EventsLogState) -> Any:
    from .widgets.event_log import EventLogView

    return EventLogView(state)


def _panel(
    module: str, widget: str, state_module: str, state: str
) -> tuple[Callable[[Any], Any], Callable[[Clock], ViewState]]:
    """Factories for a panel (``console.widgets.<module>.<widget>`` over
    ``console.state.<state_module>.<state>``), imported on first use."""
    import importlib

    def make_widget(view_state: Any) -> Any:
        return getattr(importlib.import_module(f"console.widgets.{module}"), widget)(view_state)

    def make_state(clock: Clock) -> ViewState:
        return getattr(importlib.import_module(f"console.state.{state_module}"), state)(clock)

    return make_widget, make_state


VIEWS: list[ViewSpec] = [
    ViewSpec("1", "dag", "DAG", _dag_widget, DagState),
    ViewSpec("2", "fsm", "State machines", *_panel("fsm_panel", "FsmPanel", "fsm", "FsmView")),
    ViewSpec("3", "saga", "Sagas", *_panel("saga_panel", "SagaPanel", "sagas", "SagaView")),
    ViewSpec("4", "cb", "Breakers", *_panel("breaker_board", "BreakerBoard", "breakers", "BreakerBoardState")),
    ViewSpec("5", "dlq", "Dead letters", *_panel("dlq_browser", "DlqBrowser", "dlq", "DlqView")),
    ViewSpec("6", "trace", "Traces", *_panel("trace_waterfall", "TraceWaterfall", "traces", "TraceView")),
    ViewSpec("7", "metrics", "Metrics", *_panel("metrics_panel", "MetricsPanel", "metrics", "MetricsPanelState")),
    ViewSpec("8", "events", "Events", _events_widget, EventsLogState),
]


def by_alias(alias: str) -> ViewSpec | None:
    """The view whose ``:`` alias is ``alias``, if any."""
    return next((view for view in VIEWS if view.alias == alias), None)
