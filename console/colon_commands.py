"""The ``:`` command line of the console: opening it and doing what it says.

`ColonCommands` is the part of `console.app.FlowConsoleApp` that handles the
`CommandLine` widget's messages: a view alias shows that view; ``run``,
``reload``, ``help``, ``theme NAME`` and ``q`` do what their key or the
palette does; anything else is reported as an unknown command.
"""

from __future__ import annotations

from typing import Any

from .safe import visible
from .views import by_alias
from .widgets.command_line import CommandLine


class ColonCommands:
    """``:`` command handling (mixed into `FlowConsoleApp`, which provides the actions)."""

    # Provided by FlowConsoleApp (and Textual's App).
    query_one: Any
    notify: Any
    exit: Any
    action_show_view: Any
    action_help: Any
    action_run_workflow: Any
    action_reload: Any
    switch_theme: Any
    _focus_view: Any

    def action_command_line(self) -> None:
        self.query_one(CommandLine).open()

    def on_command_line_command(self, message: CommandLine.Command) -> None:
        self._focus_view()
        self.run_command_line(message.text)

    def on_command_line_closed(self, message: CommandLine.Closed) -> None:
        self._focus_view()

    def run_command_line(self, text: str) -> None:
        """Do what a ``:`` command says."""
        parts = text.strip().lstrip(":").split(maxsplit=1)
        if not parts:
            return
        command, argument = parts[0].lower(), (parts[1].strip() if len(parts) > 1 else "")
        if by_alias(command) is not None:
            self.action_show_view(command)
        elif command in ("q", "quit", "q!"):
            self.exit(0)
        elif command in ("help", "h"):
            self.action_help()
        elif command == "run":
            self.action_run_workflow(argument or None)
        elif command == "reload":
            self.action_reload()
        elif command == "theme" and argument:
            self.switch_theme(argument)
        else:
            self.notify(f"unknown command: {visible(text, max_length=80)}", severity="error", markup=False)
