"""``flowconsole attach``: the console on the engine that owns a state directory.

The engine runs elsewhere (a service embedding `Engine(..., state_dir=D)`,
or a headless ``flowconsole run DIR --watch --state-dir D``); this opens the
same console, every view, key and theme, on what it does (``--serve``: as a
web page, one console per browser, see `console.cli.serve`): its events are
tailed from D's event log (`console.attached_engine`) and every operator
action is sent to it as a command (`console.remote_commands`). Several
consoles may attach at once; closing one leaves the engine running.
"""

from __future__ import annotations

import argparse

from console.cli import UsageError, actor_name, add_state_dir_option
from console.commands import os_user
from .serve import add_serve_address_options, serve_attached
from .tui import check_theme


def configure(parser: argparse.ArgumentParser) -> None:
    add_state_dir_option(parser)
    parser.add_argument(
        "--theme", metavar="NAME|FILE",
        help="colour theme: a shipped one (flowconsole-dark, flowconsole-light) or the path of a theme file (.toml)",
    )
    parser.add_argument("--readonly", action="store_true", help="watch only: hide and refuse every action")
    parser.add_argument(
        "--actor", metavar="NAME", type=actor_name, default=None,
        help="who the actions are recorded as (default: the OS user)",
    )
    parser.add_argument(
        "--serve", action="store_true",
        help="serve attached consoles as a web page (textual-serve) instead of opening one here",
    )
    add_serve_address_options(parser)


def main(args: argparse.Namespace) -> int:
    if args.serve:
        return serve_attached(args)
    return _open(args)


def _open(args: argparse.Namespace) -> int:
    from engine import FlowError
    from engine.store import Command

    from console.safe import visible

    from console.app import FlowConsoleApp
    from console.terminal_exit import guard_terminal_writes
    from console.attached_engine import AttachedEngine
    from console.remote_commands import RemoteCommands

    check_theme(args.theme)
    try:
        engine = AttachedEngine(args.state_dir)
    except FileNotFoundError as exc:
        raise UsageError(f"{exc}; attach to the --state-dir the engine was started with") from None
    except FlowError as exc:
        raise UsageError(str(exc)) from None
    app: FlowConsoleApp | None = None

    def progress(command: Command) -> None:
        if app is None:
            return
        if command.status == "pending":
            note = f"{command.kind}: sent, waiting for the engine to take it"
        elif command.status == "accepted":
            note = f"{command.kind}: accepted by {command.owner}"
        else:
            return
        app.call_from_thread(app.notify, visible(note, max_length=120), markup=False)

    commands = RemoteCommands(engine, actor=args.actor or os_user(), progress=progress)
    app = FlowConsoleApp(
        engine, theme=args.theme, readonly=args.readonly, start_engine=True,
        recorded_events=engine.opening, commands=commands, watch_terminal=True,
    )
    guard_terminal_writes()
    try:
        app.run()
    finally:
        app.wait_engine_started()
        engine.stop()
    return app.return_code or 0
