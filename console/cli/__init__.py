"""The ``flowconsole`` command.

``flowconsole [DIR] [options]`` opens the console on a directory of workflow
files. Subcommands (``flowconsole NAME ...``) live in modules of their own,
listed in `SUBCOMMANDS`; each module provides ``configure(parser)`` and
``main(args) -> int``, and is imported only when its command runs, so the
console's start-up never pays for the others.

Bad input never reaches the user as a traceback: a wrong flag or a missing
path is one line on stderr and exit code 2; a state directory whose store
cannot be used (damaged, another application's, read-only, no space left:
any `engine.store.StoreError`) is one line and exit code 1, for every
command and for the console itself.
A subcommand writes no control byte to the terminal (`console.cli.output`):
names, payloads and errors from workflows are shown with their control
characters made visible.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn, Sequence

from engine import StateDirBusyError, __version__
from engine.store import StoreError
from engine.visible_text import visible

PROG = "flowconsole"

# name -> (module, one-line help). Each module has configure() and main().
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("console.cli.validate", "check every workflow file of a directory; file:line: message per problem"),
    "run": ("console.cli.run", "run workflows headless (exit 0 on success, 1 on failure)"),
    "dlq": ("console.cli.dlq", "list, show, retry, replay or discard the dead letters of a state directory"),
    "attach": ("console.cli.attach", "open the console on the live engine that owns a state directory"),
    "metrics": ("console.cli.metrics", "print the engine's metrics (Prometheus text) from a state directory or a headless run"),
    "serve": ("console.cli.serve", "serve the console as a web page (textual-serve) for a browser"),
    "status": ("console.cli.status", "what a state directory holds: owner, workflows, active runs, dead letters, breakers, size"),
}


class UsageError(Exception):
    """A command line that cannot be acted on; its message is shown as is."""


class _Parser(argparse.ArgumentParser):
    """argparse, but every usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {visible(message)}\n")


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
    add_retention_options(parser)
    add_executor_option(parser)
    from console.cli.observe_options import add_observe_options

    add_observe_options(parser)
    parser.add_argument(
        "--theme", metavar="NAME|FILE",
        help="colour theme: a shipped one (flowconsole-dark, flowconsole-light) or the path of a theme file (.toml)",
    )
    parser.add_argument(
        "--readonly",
        action="store_true",
        help="watch only: hide and refuse every action that changes anything",
    )
    parser.add_argument(
        "--actor",
        metavar="NAME",
        type=actor_name,
        help="the operator named in the audit trail of every action (default: the OS user name)",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above zero (``nan``, 0, -1 refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _quiet_broken_pipe() -> int:
    # The reader went away (`flowconsole dlq show ID | head`): say nothing,
    # and point stdout at /dev/null so the interpreter's last flush at exit
    # cannot raise again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.__stdout__.fileno())
    finally:
        os.close(devnull)
    return 128 + 13  # as a command killed by SIGPIPE


def actor_name(text: str) -> str:
    """An ``--actor`` value: printable and not empty."""
    name = text.strip()
    if not name or not name.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a name (printable, not empty)")
    return name


def add_state_dir_option(parser: argparse.ArgumentParser) -> None:
    """The ``--state-dir`` option every command that touches the store shares."""
    parser.add_argument(
        "--state-dir",
        metavar="D",
        type=state_dir_path,
        default=Path(".flowconsole"),
        help="where the SQLite state lives (default: ./.flowconsole)",
    )


def add_retention_options(parser: argparse.ArgumentParser) -> None:
    """``--retain-events`` and ``--retain-days``: how much of the event log the store keeps."""
    parser.add_argument(
        "--retain-events", metavar="N", type=_positive(int), default=None,
        help="keep the newest N events in the store (default 1,000,000; dead letters and "
        "unfinished runs are always kept)",
    )
    parser.add_argument(
        "--retain-days", metavar="D", type=_positive(float), default=None,
        help="drop events older than D days (default 7), whichever limit comes first",
    )


def retention_from_args(args: argparse.Namespace) -> Any:
    """The `engine.store.Retention` that ``--retain-events`` / ``--retain-days`` ask for."""
    from engine.store import DEFAULT_RETENTION, Retention

    events = getattr(args, "retain_events", None)
    days = getattr(args, "retain_days", None)
    return Retention(
        max_events=events if events is not None else DEFAULT_RETENTION.max_events,
        max_age=days * 86_400.0 if days is not None else DEFAULT_RETENTION.max_age,
    )


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: not a number") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number")
        return value

    return parse


def state_dir_path(text: str) -> Path:
    """``--state-dir``'s type: a directory, or a path where one can be made."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a directory")
    return path


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
    from console.cli.tui import run_app
    from engine import use_executor

    # The engine run_app makes takes the current executor when it is made.
    with opened_executor(args.executor) as executor, use_executor(executor):
        return run_app(args)


def _run_subcommand(name: str, argv: Sequence[str]) -> int:
    module_name, help_ = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = _Parser(prog=f"{PROG} {name}", description=help_)
    module.configure(parser)
    from console.cli.output import guarded_output

    with guarded_output():
        args = parser.parse_args(argv)
        return int(module.main(args) or 0)


def one_line(exc: BaseException) -> str:
    """An error's message on one line, with control characters made visible."""
    from console.safe import visible

    return visible(" ".join(str(exc).split()))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``flowconsole`` script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            code = _run_subcommand(argv[0], argv[1:])
        else:
            code = _run_open(argv)
        # Flushed here, where a reader that went away is caught, not at exit.
        sys.stdout.flush()
        return code
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: error: {visible(exc)}\n")
        return 2
    except StateDirBusyError as exc:
        sys.stderr.write(f"{PROG}: error: {busy_message(exc)}\n")
        return 1
    except StoreError as exc:
        sys.stderr.write(f"{PROG}: error: {one_line(exc)}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()


def busy_message(exc: StateDirBusyError) -> str:
    """One line: who owns the state directory, and what to do instead of starting a second engine."""
    owner = exc.owner
    who = "another engine"
    if owner is not None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.started_at))
        who = f"engine pid {owner.pid} on {owner.host} (since {since})"
    return (
        f"{exc.state_dir} is owned by {who}; only one engine may run on a state directory: "
        f"see it with 'flowconsole status --state-dir {exc.state_dir}', act on it with "
        f"'flowconsole dlq ... --state-dir {exc.state_dir}', or use another --state-dir"
    )
