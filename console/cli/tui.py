"""Opening the terminal console: the one command that needs textual.

Imported only when ``flowconsole [DIR]`` opens the console, so the other
commands (``validate``, ``run``, ``dlq``, ``metrics``) never import textual.
"""

from __future__ import annotations

import argparse

from console.cli import UsageError, retention_from_args


def run_app(args: argparse.Namespace) -> int:
    """Open the console on ``args.directory``; returns the exit code."""
    from engine import Engine
    from engine.store import StateDirBusyError, Store, read_owner

    from console.app import FlowConsoleApp
    from console.terminal_exit import guard_terminal_writes
    from console.cli.observe_options import observe

    check_theme(args.theme)
    owner = read_owner(args.state_dir)
    if owner is not None:
        # Refused before the screen opens: the engine's own start would refuse too, behind a toast.
        raise StateDirBusyError(args.state_dir, owner)
    retention = retention_from_args(args)
    # Opened and closed once before the screen is: an unusable store (`StoreError`)
    # is then a line on the terminal, not a toast on an empty console.
    Store.open(args.state_dir, retention=retention).close()
    engine = Engine(args.directory, state_dir=args.state_dir, retention=retention)
    observing = observe(args, engine)
    # The app subscribes its bridge here, before the engine starts.
    app = FlowConsoleApp(
        engine, theme=args.theme, readonly=args.readonly, start_engine=True, actor=getattr(args, "actor", None),
        watch_terminal=True,
    )
    guard_terminal_writes()
    try:
        app.run()
    finally:
        app.wait_engine_started()
        engine.stop()
        observing.close()
    # 0 after q, 128 + the signal after SIGTERM/SIGHUP or a vanished terminal;
    # Textual sets 1 when the app stopped on an unhandled error.
    return app.return_code or 0


def check_theme(value: str | None) -> None:
    """Refuse a ``--theme`` that names no shipped theme, or a theme file that is not valid (`UsageError`)."""
    from console.app import UnknownThemeError
    from console.themes import ThemeFileError, load_themes, resolve_theme

    themes = load_themes()
    try:
        if resolve_theme(value, themes) is None:
            raise UsageError(str(UnknownThemeError(str(value), themes)))
    except ThemeFileError as exc:
        raise UsageError(f"--theme {exc}") from exc
