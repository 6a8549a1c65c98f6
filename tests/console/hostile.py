"""Hostile strings for the console's safe display, shared by every view's tests.

Each one tries something: markup that styles or binds a click to an app
action, terminal escapes (CSI, OSC, a bare ESC, C1 controls), bidi overrides
and isolates that reorder text, zero-width characters that hide it, stray
brackets that trip markup parsers.
"""

from __future__ import annotations

HOSTILE: list[str] = [
    "[bold red]styled[/bold red]",
    "[@click=app.quit]click me[/]",
    "[@click=app.exit(1)]",
    "[link=https://evil.example]x[/link]",
    "\x1b[31mred\x1b[0m \x1b[2J\x1b[H",
    "\x1b]0;pwned title\x07",
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x9b31m C1 CSI \x9d0;title\x9c",
    "abc\u202edcba\u202c \u2066iso\u2069 \u200bzero\u200dwidth\ufeff",
    "[/]] [[ ]] [unclosed",
    "tab\there\rreturn\x00nul\x7fdel\x08bs",
]

# What must never reach the terminal from these strings.
FORBIDDEN = ["\x1b", "\x9b", "\x9d", "\x9c", "\u202e", "\u2066", "\u200b", "\x07", "\x00"]

# A name fit for a workflow/task id made of the whole corpus, one per line.
HOSTILE_NAME = "name[@click=app.quit]\x1b[2J\u202e"
