"""How the console leaves when told to by a signal, or when its terminal goes away.

A console run from the command line (`console.app.run_app`) exits as ``q``
does (the app ends, then its engine stops and the state store closes) on
SIGTERM and SIGHUP, and when the terminal it draws on is gone: a closed
pseudo-terminal (the tty can no longer be read), or, behind a web server
(Textual's web driver), the server closing the console's input, which ends
the driver's input thread. Without this a console whose terminal went away
went on redrawing for nobody, and one sent SIGTERM died without closing
its store.

Only the UI thread calls these (the signal handlers run on its event loop).

`guard_terminal_writes` keeps a vanished terminal from killing Textual's
output thread: once the terminal hangs up, a write to it fails (``EIO``);
the thread died of that, its queue filled up, and the console's own exit
then waited forever to hand it the last writes. Writes that fail are
dropped instead: nobody can see them any more.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import termios
from typing import Any

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def exit_on_signals(app: Any) -> None:
    """Make SIGTERM and SIGHUP end ``app`` as ``q`` does (exit code 128 + the signal)."""
    loop = asyncio.get_running_loop()
    for signum in EXIT_SIGNALS:
        loop.add_signal_handler(signum, app.exit, None, 128 + signum)


def stdin_tty() -> int | None:
    """The file descriptor of stdin when it is a terminal, else None."""
    stream = sys.__stdin__
    if stream is None:
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


def terminal_gone(app: Any, tty: int | None) -> bool:
    """True when nothing can reach the console any more: its input has ended.

    ``tty`` is stdin's descriptor when the console started on a terminal: a
    hung-up terminal refuses even its attributes. The driver's input thread
    ending (the web driver's, when the server closes the input) says the same.
    """
    thread = getattr(getattr(app, "_driver", None), "_key_thread", None)
    if thread is not None and thread.ident is not None and not thread.is_alive():
        return True
    if tty is None:
        return False
    try:
        termios.tcgetattr(tty)
    except (termios.error, OSError):
        return True
    return False


class _TerminalWrites:
    """The terminal stream, whose writes and flushes fail quietly once it is gone."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            return

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_terminal_writes() -> None:
    """Make the stream Textual draws on (``sys.__stderr__``) drop writes to a vanished terminal."""
    stream = sys.__stderr__
    if stream is not None and not isinstance(stream, _TerminalWrites):
        sys.__stderr__ = _TerminalWrites(stream)  # type: ignore[misc]
