"""``flowconsole serve [DIR]``: the console as a web page, through textual-serve.

For an operator who cannot open a terminal on the host. ``serve`` runs the
engine on ``DIR`` itself, owning ``--state-dir`` (hot reload and schedules
on, as ``flowconsole run --watch``), and every browser that opens
``http://HOST:PORT/`` gets its own console process attached to it
(``flowconsole attach --state-dir D``), driven over a websocket by
textual-serve (the optional ``flowconsole[web]`` extra). So any number of
tabs show the one engine, and closing a tab stops only its console.
``flowconsole attach --serve`` serves consoles attached to an engine that
runs elsewhere (`serve_attached`). Bound to 127.0.0.1 unless ``--host``
says otherwise. When the browser leaves, textual-serve tells that console to
quit.

SIGINT, SIGTERM and SIGHUP stop the server: each console is sent SIGTERM at
once, and one still running when the server has stopped gets SIGKILL after
`CHILD_GRACE` seconds, so no console outlives ``serve``; then the engine
stops. Each console is a direct child (its command is ``exec``-ed by the
shell textual-serve starts), which is how they are found (`_children`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path

CHILD_GRACE = 5.0


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowconsole serve``."""
    from console.cli import add_state_dir_option

    parser.add_argument(
        "directory", nargs="?", metavar="DIR",
        help="directory of workflow files (default: ./sample_workflows when it exists)",
    )
    add_serve_address_options(parser)
    add_state_dir_option(parser)
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the served console")
    parser.add_argument("--readonly", action="store_true", help="serve a console that only watches")


def add_serve_address_options(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port``, shared with ``flowconsole attach --serve``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")


def console_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser: this Python, a console attached to D."""
    argv = [sys.executable, "-m", "console.cli", "attach", "--state-dir", str(args.state_dir.resolve())]
    if args.theme is not None:
        argv += ["--theme", args.theme]
    if args.readonly:
        argv.append("--readonly")
    actor = getattr(args, "actor", None)
    if actor:
        argv += ["--actor", actor]
    return "exec " + shlex.join(argv)


def main(args: argparse.Namespace) -> int:
    """Run the engine on DIR and serve consoles attached to it until interrupted; returns the exit code."""
    from console.cli import resolve_workflow_dir
    from engine import Engine

    directory = resolve_workflow_dir(args.directory)
    server_class = _server_class()
    engine = Engine(directory, state_dir=args.state_dir)
    engine.start()
    try:
        return _serve(server_class, args)
    finally:
        engine.stop()


def serve_attached(args: argparse.Namespace) -> int:
    """Serve consoles attached to the engine that owns ``args.state_dir`` (``attach --serve``)."""
    return _serve(_server_class(), args)


def _server_class() -> type:
    from console.cli import UsageError

    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise UsageError(f"flowconsole serve needs textual-serve (pip install 'flowconsole[web]'): {exc}") from exc

    class _Server(Server):
        async def on_startup(self, app: object) -> None:
            await super().on_startup(app)
            import asyncio

            # textual-serve stops on SIGINT and SIGTERM; a closed terminal too.
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.request_exit)

        def request_exit(self) -> None:
            # The consoles first: each closes its websocket as it exits, so
            # the server's graceful shutdown has no session left to wait for.
            for pid in _children():
                _signal(pid, signal.SIGTERM)
            super().request_exit()

    return _Server


def _serve(server_class: type, args: argparse.Namespace) -> int:
    from console.cli import UsageError

    server = server_class(console_command(args), host=args.host, port=args.port, title="flowconsole")
    try:
        server.serve()
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port} ({exc.strerror or exc})") from exc
    finally:
        stop_children(CHILD_GRACE)
    return 0


def _children() -> list[int]:
    """The ids of this process's direct children (from /proc)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (2nd field) is in parentheses and may hold spaces.
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(entry.name))
    return found


def stop_children(grace: float) -> None:
    """SIGTERM every child, then SIGKILL those still running after ``grace`` seconds."""
    children = _children()
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while children and time.monotonic() < deadline:
        children = [pid for pid in children if not _reaped(pid)]
        if children:
            time.sleep(0.05)
    for pid in children:
        _signal(pid, signal.SIGKILL)
        _reaped(pid, block=True)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return


def _reaped(pid: int, block: bool = False) -> bool:
    try:
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid
