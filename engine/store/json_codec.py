"""Compact JSON encoders built once and reused, for the store's per-event paths.

``json.JSONEncoder.encode`` builds a new C encoder on every call, which costs
about as much as encoding a small event's data. `compact_encoder` builds the
C encoder once. Without a ``default`` the encoder is strict: a value JSON
cannot hold raises `TypeError`. Nothing checks for circular containers: one
raises `RecursionError` (callers catch it with the other encoding errors).
"""

from __future__ import annotations

import json
import json.encoder
from typing import Any, Callable


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact_encoder(
    default: Callable[[Any], Any] | None = None, *, allow_nan: bool = True
) -> Callable[[Any], str]:
    """``encode(value) -> str`` with ``","`` and ``":"`` separators and ASCII output."""
    make = json.encoder.c_make_encoder
    if make is None:
        return json.JSONEncoder(
            default=default, allow_nan=allow_nan, separators=(",", ":"), check_circular=False
        ).encode
    chunks = make(
        None, default or _refuse, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, allow_nan,
    )
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode
