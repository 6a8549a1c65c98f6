"""A modal that asks for the reason of an action; an empty reason is refused."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.safe import safe_text


class ReasonDialog(ModalScreen[str | None]):
    """Dismisses with the reason typed (stripped, never empty), or None on escape."""

    DEFAULT_CSS = """
    ReasonDialog { align: center middle; background: $background 60%; }
    ReasonDialog .dialog-body { width: 72; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 1 2; }
    ReasonDialog .dialog-question { margin-bottom: 1; }
    ReasonDialog .dialog-buttons { height: auto; margin-top: 1; }
    ReasonDialog .dialog-buttons Button { margin-right: 2; }
    ReasonDialog .dialog-error { color: $error; height: auto; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__(classes="operator-dialog")
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Static(safe_text(self.title_text), classes="dialog-question")
            yield Input(placeholder="reason (required, recorded)", id="reason")
            yield Static("", id="reason-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reason = event.value.strip()
        if not reason:
            self.query_one("#reason-error", Static).update("A reason is required.")
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
