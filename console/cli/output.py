"""What the command line writes reaches the terminal with no control byte in it.

The commands show workflow names, payloads and error messages through
`engine.visible_text.visible` where they print them. `guarded_output` is the
net beneath that, for everything else a command's process writes to
``sys.stdout`` and ``sys.stderr`` (a library's warning, a log record):

* both streams are wrapped so that every control, C1 and bidi character
  left (a newline and a tab excepted) is written as a ``\\u`` escape, which
  also keeps a JSON line valid JSON that decodes to the same value;
* log records that reach no handler (the stdlib's "last resort", where
  ``workflow file failed to load: ...`` goes when logging is not
  configured) are written through `engine.observe.logs.PlainFormatter`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any, Iterator, TextIO

from engine.observe.logs import PlainFormatter
from engine.visible_text import json_escaped


class _EscapingStream:
    """A text stream that escapes control characters before they are written."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(json_escaped(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _LastResort(logging.Handler):
    """Like the stdlib's last resort (WARNING and up, to the current stderr), made visible."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(PlainFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging never raises into the caller
            self.handleError(record)


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Escape what reaches stdout and stderr, and the last-resort log handler, inside the block."""
    stdout, stderr, last_resort = sys.stdout, sys.stderr, logging.lastResort
    sys.stdout, sys.stderr = _EscapingStream(stdout), _EscapingStream(stderr)
    logging.lastResort = _LastResort()
    try:
        yield
    finally:
        sys.stdout, sys.stderr, logging.lastResort = stdout, stderr, last_resort
