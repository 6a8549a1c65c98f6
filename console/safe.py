"""Safe display: the one way an untrusted string reaches the screen.

Names from workflow files, payloads, error messages and event data may hold
anything. Rich and Textual pass ESC and C1 control bytes straight to the
terminal, and markup in a ``Static`` can bind a click to an app action. So
every such string is shown through `safe_text`, which

* never interprets markup (the result is a ``rich.text.Text`` built from
  plain text, so ``[@click=app.quit]`` is just brackets and letters), and
* makes every control character visible instead of sending it: C0 controls
  and DEL become Unicode control pictures (ESC is shown as ``␛``), C1
  controls become ``\\x9b``-style escapes, and bidi overrides, isolates and
  zero-width characters become ``<U+202E>``-style tags, so text cannot
  reorder or hide itself.
"""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from rich.text import Text


def _translation_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # U+2400..U+241F: control pictures
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = f"\\x{code:02x}"
    invisible = [
        0x061C,  # arabic letter mark
        *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
        *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # zero-width no-break space
    ]
    for code in invisible:
        table[code] = f"<U+{code:04X}>"
    return table


_TABLE = _translation_table()
_MULTILINE_TABLE = {**_TABLE, 0x0A: "\n", 0x09: "    "}


def visible(value: Any, *, multiline: bool = False, max_length: int | None = None) -> str:
    """``value`` as a plain string with every control character made visible.

    With ``multiline`` newlines are kept and tabs become four spaces (for
    tracebacks and pretty JSON). ``max_length`` cuts the result with ``…``.
    """
    text = value if isinstance(value, str) else str(value)
    text = text.translate(_MULTILINE_TABLE if multiline else _TABLE)
    if max_length is not None and len(text) > max_length:
        text = text[: max(0, max_length - 1)] + "…"
    return text


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
