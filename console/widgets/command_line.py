"""The ``:`` command line, in the style of k9s.

Hidden until ``:``; enter runs the command (the app interprets it), esc
closes it. Suggestions complete the known commands.
"""

from __future__ import annotations

from typing import Iterable

from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input


class CommandLine(Input):
    """A one-line command prompt docked above the footer."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    class Command(Message):
        """The operator entered a command."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, commands: Iterable[str], *, id: str | None = None) -> None:
        super().__init__(
            placeholder="command: dag, events, run NAME, theme NAME, reload, help, quit",
            suggester=SuggestFromList(list(commands), case_sensitive=False),
            id=id,
        )
        self.cursor_blink = False

    def open(self) -> None:
        self.value = ""
        self.add_class("open")
        self.focus()

    class Closed(Message):
        """The command line closed without a command."""

    def action_close(self) -> None:
        self.remove_class("open")
        self.value = ""
        self.post_message(self.Closed())

    async def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        text = message.value.strip()
        self.remove_class("open")
        self.value = ""
        self.post_message(self.Command(text) if text else self.Closed())
