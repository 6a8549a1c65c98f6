"""A modal that asks the operator to confirm one destructive or bulk action."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.safe import safe_text


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True when the operator confirms, False otherwise.

    ``question`` may hold untrusted text (a workflow name, a count with a
    filter): it is shown through `safe_text`.
    """

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; background: $background 60%; }
    ConfirmDialog .dialog-body { width: 64; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 1 2; }
    ConfirmDialog .dialog-question { margin-bottom: 1; }
    ConfirmDialog .dialog-buttons { height: auto; margin-top: 1; }
    ConfirmDialog .dialog-buttons Button { margin-right: 2; }
    ConfirmDialog .dialog-error { color: $error; height: auto; }
    """

    BINDINGS = [
        Binding("y", "confirm", "Yes"),
        Binding("n,escape", "cancel", "No"),
    ]

    def __init__(self, question: str, *, confirm_label: str = "Yes") -> None:
        super().__init__(classes="operator-dialog")
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body"):
            yield Static(safe_text(self.question), classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error")
                yield Button("No (n)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
