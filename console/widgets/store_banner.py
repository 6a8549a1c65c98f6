"""The store banner: shown while the durable store cannot write, until it recovers.

One line under the header, in the theme's error colour, with SQLite's reason
and what it means for the operator: nothing is lost while the engine runs,
events wait in memory (up to the store's queue) and are saved when space
returns. Hidden while the store writes.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ..safe import visible


class StoreBanner(Widget):
    """Says that the store cannot write, and why; hidden otherwise."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.failure: str | None = None
        self.display = False

    def show(self, failure: str | None) -> None:
        """Show ``failure`` (the store's error), or hide the banner when it is None."""
        if failure == self.failure:
            return
        self.failure = failure
        self.display = failure is not None
        self.refresh()

    def render(self) -> Text:
        if self.failure is None:
            return Text("")
        return Text(
            f" STORE CANNOT WRITE: {visible(self.failure, max_length=200)} - events are kept in memory "
            "and saved when it recovers; nothing is lost unless the console stops first",
            no_wrap=True, overflow="ellipsis", end="",
        )
