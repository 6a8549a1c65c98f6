"""Safe display: the one way an untrusted string reaches the screen.

Names from workflow files, payloads, error messages and event data may hold
anything. Rich and Textual pass ESC and C1 control bytes straight to the
terminal, and markup in a ``Static`` can bind a click to an app action. So
every such string is shown through `safe_text`, which

* never interprets markup (the result is a ``rich.text.Text`` built from
  plain text, so ``[@click=app.quit]`` is just brackets and letters), and
* makes every control character visible instead of sending it, through
  `engine.visible_text.visible` (which the command line uses too): C0
  controls and DEL become Unicode control pictures (ESC is shown as ``␛``),
  C1 controls become ``\\x9b``-style escapes, and bidi overrides, isolates
  and zero-width characters become ``<U+202E>``-style tags, so text cannot
  reorder or hide itself.
"""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from rich.text import Text

from engine.visible_text import visible

__all__ = ["safe_json", "safe_text", "visible"]


def safe_text(
    value: Any,
    style: str | Style = "",
    *,
    multiline: bool = False,
    max_length: int | None = None,
) -> Text:
    """A ``Text`` showing ``value`` literally: markup off, controls visible."""
    return Text(visible(value, multiline=multiline, max_length=max_length), style=style, end="")


def safe_json(value: Any) -> Text:
    """``value`` (event data, a payload) as indented JSON, shown safely."""
    try:
        dumped = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        # Keys of mixed types cannot be sorted; show them in their own order.
        dumped = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    return safe_text(dumped, multiline=True)
