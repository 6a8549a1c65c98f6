"""The command palette's flowconsole commands: run a workflow, switch theme,
reload files, show a view. Changing commands are left out under ``--readonly``.

Workflow names come from files, so hits are built as plain `Content` (the
stock highlighter parses markup) with the fuzzy matches styled by offset.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from .safe import visible
from .views import VIEWS


def _highlight(matcher: Matcher, text: str) -> Content:
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if not score:
        return content
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class FlowCommands(Provider):
    """flowconsole's own palette commands."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: Any = self.app
        commands: list[tuple[str, Callable[[], Any], str]] = []
        if not app.readonly:
            for name in app.workflow_names():
                commands.append(
                    (f"Run workflow: {visible(name)}", partial(app.action_run_workflow, name), "start a new run now")
                )
            commands.append(("Reload workflow files", app.action_reload, "load the workflow files again"))
        for theme in app.flow_themes:
            commands.append((f"Switch theme: {theme}", partial(app.switch_theme, theme), "change the colours"))
        for view in VIEWS:
            commands.append(
                (f"Show view: {view.title} (:{view.alias})", partial(app.action_show_view, view.alias), f"key {view.key}")
            )
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_ in self._commands():
            yield DiscoveryHit(Content(text), callback, text=text, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_ in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, _highlight(matcher, text), callback, text=text, help=help_)
