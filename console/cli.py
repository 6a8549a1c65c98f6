"""The ``flowconsole`` command.

``flowconsole [DIR] [options]`` opens the console on a directory of workflow
files. Subcommands (``flowconsole NAME ...``) live in modules of their own,
listed in `SUBCOMMANDS`; each module provides ``configure(parser)`` and
``main(args) -> int``, and is imported only when its command runs, so the
console's start-up never pays for the others.

Bad input never reaches the user as a traceback: a wrong flag or a missing
path is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn, Sequence

from engine import __version__

PROG = "flowconsole"

# name -> (module, one-line help). Each module has configure() and main().
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("console.cmd_validate", "check every workflow file of a directory; file:line: message per problem"),
    "run": ("console.cmd_run", "run workflows headless (exit 0 on success, 1 on failure)"),
    "dlq": ("console.cmd_dlq", "list, show, retry, replay or discard the dead letters of a state directory"),
    "metrics": ("console.cmd_metrics", "print the engine's metrics (Prometheus text) from a state directory or a headless run"),
}


class UsageError(Exception):
    """A command line that cannot be acted on; its message is shown as is."""


class _Parser(argparse.ArgumentParser):
    """argparse, but every usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _subcommand_list() -> str:
    if not SUBCOMMANDS:
        return ""
    width = max(len(name) for name in SUBCOMMANDS)
    lines = [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "commands:\n" + "\n".join(lines) + f"\n\nRun '{PROG} COMMAND --help' for a command's options."


def build_open_parser() -> argparse.ArgumentParser:
    """The parser of ``flowconsole [DIR]``: open the console."""
    parser = _Parser(
        prog=PROG,
        description="Open the flowconsole operations console on a directory of workflow files.",
        epilog=_subcommand_list() or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "directory",
        nargs="?",
        metavar="DIR",
        help="directory of workflow files (default: ./sample_workflows when it exists)",
    )
    add_state_dir_option(parser)
    add_executor_option(parser)
    parser.add_argument("--theme", metavar="NAME", help="colour theme (e.g. flowconsole-dark, flowconsole-light)")
    parser.add_argument(
        "--readonly",
        action="store_true",
        help="watch only: hide and refuse every action that changes anything",
    )
    parser.add_argument(
        "--actor",
        metavar="NAME",
        type=_actor_name,
        help="the operator named in the audit trail of every action (default: the OS user name)",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def _actor_name(text: str) -> str:
    name = text.strip()
    if not name or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a name (printable, not empty)")
    return name


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    """The ``--state-dir`` option every command that touches the store shares."""
    parser.add_argument(
        "--state-dir",
        metavar="D",
        type=Path,
        default=Path(".flowconsole"),
        help="where the SQLite state lives (default: ./.flowconsole)",
    )


def add_executor_option(parser: argparse.ArgumentParser) -> None:
    """The ``--executor`` option: where DAG tasks and pool work run."""
    parser.add_argument(
        "--executor",
        metavar="E",
        default="threads",
        help="where tasks run: threads (default), dask-local[:N] (a local Dask cluster of N worker "
        "processes, default 2) or dask://HOST:PORT (an existing Dask scheduler)",
    )


@contextmanager
def opened_executor(spec: str | None) -> Iterator[Any]:
    """The executor ``--executor`` names (None for threads), shut down on exit."""
    from engine import FlowError, executor_from_spec

    try:
        executor = executor_from_spec(spec)
    except FlowError as exc:
        raise UsageError(str(exc)) from exc
    try:
        yield executor
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def resolve_workflow_dir(given: str | None) -> Path:
    """The directory to open: the one given, or ./sample_workflows."""
    if given is None:
        default = Path("sample_workflows")
        if default.is_dir():
            return default
        raise UsageError("no DIR given and ./sample_workflows does not exist")
    path = Path(given)
    if not path.exists():
        raise UsageError(f"{given}: no such file or directory")
    if not path.is_dir():
        raise UsageError(f"{given}: not a directory")
    return path


def _run_open(argv: Sequence[str]) -> int:
    args = build_open_parser().parse_args(argv)
    args.directory = resolve_workflow_dir(args.directory)
    from console.app import run_app
    from engine import use_executor

    # The engine run_app makes takes the current executor when it is made.
    with opened_executor(args.executor) as executor, use_executor(executor):
        return run_app(args)


def _run_subcommand(name: str, argv: Sequence[str]) -> int:
    module_name, help_ = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = _Parser(prog=f"{PROG} {name}", description=help_)
    module.configure(parser)
    args = parser.parse_args(argv)
    return int(module.main(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``flowconsole`` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return _run_subcommand(argv[0], argv[1:])
        return _run_open(argv)
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Under ``python -m`` this file runs as __main__ while subcommands import
    # console.cli: dispatch through that one module so its UsageError is the
    # one caught.
    from console.cli import main as _main

    sys.exit(_main())
