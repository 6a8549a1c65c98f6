"""The header: the engine's vital signs and the view bar.

Line one: for an attached console, the engine it follows (or that it is
gone); workflows loaded, runs active, events per second, dead letters
waiting, breakers open, events dropped by the bridge, the database's size
when the engine has a store (and READ-ONLY when so), with short labels in a
terminal under 100 columns.
Line two: every view's number key and alias, the shown one highlighted.
"""

from __future__ import annotations

from typing import Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ..byte_sizes import human_size
from ..state.vitals import VitalsState
from ..state.workflows import WorkflowsState

SHORT_BELOW = 100

# Until a widget is styled its component styles do not exist yet; render plain then.
_PLAIN = Style()


class HeaderVitals(Widget):
    """Two lines of vital signs and views."""

    COMPONENT_CLASSES = {"header--title", "header--label", "header--alert", "header--view", "header--view-active"}

    def __init__(self, workflows: WorkflowsState, vitals: VitalsState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.workflows = workflows
        self.vitals = vitals
        self.dropped = 0
        self.readonly = False
        self.db_size: int | None = None
        self.views: Sequence[tuple[str, str]] = ()
        self.current_view = ""
        self.attachment: tuple[str, bool] | None = None

    def show(
        self, *, dropped: int, readonly: bool, views: Sequence[tuple[str, str]], current_view: str,
        db_size: int | None = None,
    ) -> None:
        self.db_size = db_size
        self.dropped = dropped
        self.readonly = readonly
        self.views = views
        self.current_view = current_view
        self.refresh()

    def show_attachment(self, label: str, *, live: bool) -> None:
        """An attached console: which engine it follows (``live``), or that it is gone."""
        if self.attachment != (label, live):
            self.attachment = (label, live)
            self.refresh()

    def render(self) -> Text:
        label = self.get_component_rich_style("header--label", default=_PLAIN)
        alert = self.get_component_rich_style("header--alert", default=_PLAIN)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(" flowconsole ", style=self.get_component_rich_style("header--title", default=_PLAIN))
        if self.attachment is not None:
            attached, live = self.attachment
            text.append(f"  {attached}", style="bold" if live else alert)

        def vital(name: str, value: int, bad: bool = False) -> None:
            text.append(f"  {name} ", style=label)
            text.append(str(value), style=alert if bad and value else "bold")

        vitals = self.vitals
        # Below SHORT_BELOW columns the long labels would push the line off the
        # screen. The terminal's width, not this widget's: that one is not
        # final until the first layout, and the first frame must not be short.
        short = 0 < self.app.size.width < SHORT_BELOW
        vital("workflows", self.workflows.loaded_count)
        vital("runs" if short else "runs active", self.workflows.active_runs)
        vital("ev/s" if short else "events/s", vitals.events_per_second)
        vital("dlq" if short else "dead letters", vitals.dead_letters, bad=True)
        vital("cb open" if short else "breakers open", vitals.breakers_open, bad=True)
        vital("drop" if short else "dropped", self.dropped, bad=True)
        if self.db_size is not None:
            text.append("  db ", style=label)
            text.append(human_size(self.db_size), style="bold")
        if self.readonly:
            text.append("  READ-ONLY", style=alert)
        text.append("\n")
        for key, alias in self.views:
            style = "header--view-active" if alias == self.current_view else "header--view"
            text.append(f" {key} {alias} ", style=self.get_component_rich_style(style, default=_PLAIN))
            text.append(" ")
        return text
