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
