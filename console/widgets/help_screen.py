"""The ``?`` help screen: every key binding and every ``:`` command."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..safe import safe_text


class HelpScreen(ModalScreen[None]):
    """A modal list of (where, key, what it does) rows; esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(title="flowconsole keys", expand=True, box=None, padding=(0, 2))
        table.add_column("where", style="bold")
        table.add_column("key", no_wrap=True)
        table.add_column("does")
        for where, key, does in self.rows:
            table.add_row(safe_text(where), safe_text(key), safe_text(does))
        with VerticalScroll(id="help-body"):
            yield Static(table, id="help-table")

    def on_mount(self) -> None:
        # The arrows and page keys scroll the list at once, without a tab first.
        self.query_one("#help-body", VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
