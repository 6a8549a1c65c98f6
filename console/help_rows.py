"""The rows of the help screen: every binding the operator can use now.

Gathered from the app's bindings, each view's widgets' own bindings (not
Textual's inherited ones) and the ``:`` commands; bindings of changing
actions that are refused now (``--readonly``) are left out.
"""

from __future__ import annotations

from typing import Any, Iterable

from textual.binding import Binding

from .views import VIEWS

_COMMANDS = (
    (":run [NAME]", "run a workflow (the selected one by default)", True),
    (":reload", "reload the workflow files", True),
    (":theme NAME", "switch theme", False),
    (":help", "this screen", False),
    (":quit", "quit", False),
)


def binding_rows(app: Any, changing_actions: set[str]) -> list[tuple[str, str, str]]:
    """(where, key, what it does) for every binding and command of ``app``."""
    rows: list[tuple[str, str, str]] = []

    def add(where: str, node: Any, bindings: Iterable[Binding | tuple]) -> None:
        changing = set(getattr(node, "CHANGING_ACTIONS", ())) | changing_actions
        for binding in bindings:
            if not isinstance(binding, Binding):
                binding = Binding(*binding)
            action = binding.action.split("(")[0]
            if action in changing and node.check_action(action, ()) is False:
                continue
            key = binding.key_display or app.get_key_display(binding)
            rows.append((where, key, binding.description or action))

    add("everywhere", app, type(app).BINDINGS)
    rows.append(("everywhere", "ctrl+p", "command palette: run workflow, switch theme, reload files"))
    rows.append(("everywhere", "tab", "move focus between the sidebar and the view"))
    add("sidebar", app._sidebar, [("up", "", "previous workflow"), ("down", "", "next workflow")])
    for view in VIEWS:
        widget = app.view_widgets[view.alias]
        for node in (widget, *widget.walk_children()):
            if type(node).__module__.startswith("console."):
                add(f"{view.key} {view.alias}", node, _own_bindings(node))
    for view in VIEWS:
        rows.append(("command line", f":{view.alias}", f"show the {view.title} view"))
    for command, does, changes in _COMMANDS:
        if changes and app.readonly:
            continue
        if command == ":theme NAME":
            does = f"{does} ({', '.join(app.flow_themes)})"
        rows.append(("command line", command, does))
    return rows


def _own_bindings(node: Any) -> list[Binding | tuple]:
    # Only the bindings a class declares itself (not Textual's inherited ones).
    return list(type(node).__dict__.get("BINDINGS", ()))
