"""Untrusted text made safe for a terminal: every control character visible.

Names from workflow files, payloads, error messages and event data may hold
anything: an OSC 52 clipboard write, a screen clear, an OSC 8 link, bidi
overrides that reorder a line. The console (``console.safe``) and the
command line show such strings through `visible`, which sends none of them
to the terminal: C0 controls and DEL become Unicode control pictures (ESC is
shown as ``␛``), C1 controls become ``\\x9b``-style escapes, and bidi
overrides, isolates and zero-width characters become ``<U+202E>``-style
tags. `json_escaped` does the same job for a JSON document, with JSON's own
``\\u`` escapes, so the document stays valid and decodes to the same value.

Pure functions of the standard library: the engine and the console share
them, and neither textual nor rich is imported.
"""

from __future__ import annotations

from typing import Any


def _invisible_codes() -> list[int]:
    return [
        0x061C,  # arabic letter mark
        *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
        *range(0x2028, 0x202F),  # line/paragraph separators, bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # zero-width no-break space
    ]


def _translation_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # U+2400..U+241F: control pictures
    table[0x7F] = "\u2421"  # ␡
    for code in range(0x80, 0xA0):
        table[code] = f"\\x{code:02x}"
    for code in _invisible_codes():
        table[code] = f"<U+{code:04X}>"
    return table


_TABLE = _translation_table()
_MULTILINE_TABLE = {**_TABLE, 0x0A: "\n", 0x09: "    "}
# Inside a JSON string every one of these may be written as a \u escape;
# outside strings a JSON document holds only ASCII and whitespace, so the
# newline and tab (whitespace there, escaped by json.dumps inside strings)
# are kept.
_JSON_TABLE = {code: f"\\u{code:04x}" for code in _TABLE if code not in (0x09, 0x0A)}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a value whose __str__ raises is shown by its type
        return f"<{type(value).__name__} object: str() failed>"


def visible(value: Any, *, multiline: bool = False, max_length: int | None = None) -> str:
    """``value`` as a plain string with every control character made visible.

    With ``multiline`` newlines are kept and tabs become four spaces (for
    tracebacks and pretty JSON). ``max_length`` cuts the result with ``…``.
    A value whose ``__str__`` raises is shown by its type name.
    """
    text = _as_text(value).translate(_MULTILINE_TABLE if multiline else _TABLE)
    if max_length is not None and len(text) > max_length:
        text = text[: max(0, max_length - 1)] + "…"
    return text


def json_escaped(document: str) -> str:
    """A JSON document with every control, C1 and bidi character as a ``\\u`` escape.

    ``json.dumps`` leaves DEL, C1 controls and (with ``ensure_ascii=False``)
    bidi overrides raw; this escapes them, so the document decodes to the
    same value and no raw control byte reaches a terminal.
    """
    return document.translate(_JSON_TABLE)
