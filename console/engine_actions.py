"""Operator actions that change the engine, and how they are run and refused.

`EngineActions` is the part of `console.app.FlowConsoleApp` that sends
commands to the engine through `EngineCommands`: each runs on a worker
thread (`perform`), so a slow engine call never blocks the screen, and its
outcome comes back to the UI thread as a notification (``call_from_thread``).
Under ``readonly`` the actions in `CHANGING_ACTIONS` are hidden from the
footer and every command is refused.
"""

from __future__ import annotations

from typing import Any

from textual import work

from .commands import EngineCommands
from .safe import visible

# Actions that change the engine: hidden and refused under --readonly.
CHANGING_ACTIONS = {"run_workflow", "reload"}


class EngineActions:
    """Engine commands of the console (mixed into `FlowConsoleApp`)."""

    # Provided by FlowConsoleApp (and Textual's App).
    commands: EngineCommands
    readonly: bool
    selected_workflow: str | None
    notify: Any
    call_from_thread: Any

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHANGING_ACTIONS and self.readonly:
            return False
        return True

    def action_run_workflow(self, name: str | None = None) -> None:
        workflow = name or self.selected_workflow
        if workflow is None:
            self.notify("No workflow selected.", severity="warning")
            return
        self.perform(f"run {workflow}", self.commands.start_run, workflow)

    def action_reload(self) -> None:
        self.perform("reload workflow files", self.commands.reload)

    def perform(self, label: str, command: Any, *args: Any, **kwargs: Any) -> bool:
        """Run an engine command in a worker thread; False if refused (read-only)."""
        if self.readonly:
            self.notify(f"{visible(label, max_length=80)}: refused, the console is read-only", severity="warning", markup=False)
            return False
        self._perform(label, command, args, kwargs)
        return True

    @work(thread=True, group="commands", exit_on_error=False)
    def _perform(self, label: str, command: Any, args: tuple, kwargs: dict) -> Any:
        label = visible(label, max_length=80)
        try:
            result = command(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure is shown to the operator
            message = visible(f"{type(exc).__name__}: {exc}", max_length=300)
            self.call_from_thread(self.notify, message, title=f"{label} failed", severity="error", markup=False)
            return None
        done = f"{label}: done" if result is None else f"{label}: {visible(result, max_length=80)}"
        self.call_from_thread(self.notify, done, markup=False)
        return result
