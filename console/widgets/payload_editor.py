"""A modal to edit a dead letter's payload as JSON, then retry or replay it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from console.safe import safe_text, visible


@dataclass(frozen=True, slots=True)
class PayloadEdit:
    """The edited payload and what to do with it: ``"retry"`` or ``"replay"``."""

    payload: Any
    then: str


class PayloadEditor(ModalScreen[PayloadEdit | None]):
    """Edits ``payload`` as JSON text; invalid JSON is reported, never sent.

    The text area shows the payload as JSON (control characters are escaped
    by ``json.dumps``, so nothing raw reaches the terminal).
    """

    DEFAULT_CSS = """
    PayloadEditor { align: center middle; background: $background 60%; }
    PayloadEditor .dialog-body { width: 96; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 1 2; }
    PayloadEditor .dialog-question { margin-bottom: 1; }
    PayloadEditor .dialog-buttons { height: auto; margin-top: 1; }
    PayloadEditor .dialog-buttons Button { margin-right: 2; }
    PayloadEditor .dialog-error { color: $error; height: auto; }
    PayloadEditor #payload-text { height: 20; }
    """

    BINDINGS = [
        Binding("ctrl+r", "submit('retry')", "Save + retry"),
        Binding("ctrl+o", "submit('replay')", "Save + replay"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, letter_id: str, payload: Any, *, can_replay: bool = True) -> None:
        super().__init__(classes="operator-dialog")
        self.letter_id = letter_id
        self.payload = payload
        self.can_replay = can_replay

    def compose(self) -> ComposeResult:
        text = json.dumps(self.payload, indent=2, sort_keys=True, default=repr)
        with Vertical(classes="dialog-body editor-body"):
            yield Static(safe_text(f"Edit payload of {self.letter_id}"), classes="dialog-question")
            yield TextArea(text, language=None, id="payload-text", soft_wrap=True)
            yield Static("", id="payload-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save + retry (ctrl+r)", id="retry", variant="primary")
                if self.can_replay:
                    yield Button("Save + replay (ctrl+o)", id="replay")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.action_submit(str(event.button.id))

    def action_submit(self, then: str) -> None:
        text = self.query_one(TextArea).text
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            self.query_one("#payload-error", Static).update(
                safe_text(f"Not JSON: line {exc.lineno} column {exc.colno}: {visible(exc.msg)}")
            )
            return
        self.dismiss(PayloadEdit(payload, then))

    def action_cancel(self) -> None:
        self.dismiss(None)
