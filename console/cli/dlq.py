"""``flowconsole dlq``: list, show, retry, replay and discard dead letters.

Acts on the dead letters kept in a state directory (``--state-dir``, the
one the console uses) through the engine's dead-letter API. A retry or a
replay runs the unit with the *current* workflow files, which it loads from
``--workflows DIR``. A bad id, filter or state directory is one line on
stderr and exit code 2; a store that cannot be used (damaged, read-only,
no space left) is one line and exit code 1; a retry whose unit fails again
exits 1. Every string of a letter (names, errors, payloads, tracebacks) is
shown with its control characters made visible; ``--json`` writes them as
``\\u`` escapes.

``list`` and ``show`` only read. An action that changes a letter goes to the
engine that owns the state directory when one is live (`console.cli.owner_route`):
it carries the action out with its own workflow files and the command waits
for its outcome (``--timeout``). With no live owner the command acts itself,
holding the owner lock meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from console.cli import UsageError, add_retention_options, add_state_dir_option, retention_from_args
from engine import Runtime
from engine.resilience.dlq.letter import DeadLetter
from engine.resilience.dlq.queue import FILTERS, DeadLetterQueue
from engine.errors import FlowError
from engine.store import OwnerInfo, StateDirBusyError, Store, StoreError
from engine.store.dlq_store import DeadLetterView
from engine.store.schema import DB_NAME, check_database

from .owner_route import DEFAULT_TIMEOUT, CommandTimedOut, live_owner, local_ownership, send
from engine.visible_text import json_escaped, visible


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``list``, ``show``, ``retry``, ``replay`` and ``discard`` actions."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list dead letters, oldest first")
    listing.add_argument("--workflow", metavar="W", help="only letters of workflow W")
    listing.add_argument("--error", metavar="E", help="only letters whose error type is E (full or short name) or whose message contains E")
    listing.add_argument("--status", metavar="S", help="only letters in status S (dead, retrying, resolved, discarded)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    show = actions.add_parser("show", help="show one dead letter in full")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print JSON")

    retry = actions.add_parser("retry", help="run dead-lettered units again with the current workflow files")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("id", metavar="ID", nargs="?")
    target.add_argument("--match", metavar="FILTER", help="every dead letter matching key=value[,key=value...]")
    retry.add_argument("--workflows", metavar="DIR", type=Path, help="directory of workflow files to load")
    retry.add_argument("--reason", metavar="R", help="why (kept in the letter's history)")

    replay = actions.add_parser("replay", help="publish a handler letter's original event again")
    replay.add_argument("id", metavar="ID")
    replay.add_argument("--workflows", metavar="DIR", type=Path, help="directory of workflow files to load")
    replay.add_argument("--reason", metavar="R", help="why (kept in the letter's history)")

    discard = actions.add_parser("discard", help="give up on a dead letter (it stays, marked discarded)")
    discard.add_argument("id", metavar="ID")
    discard.add_argument("--reason", metavar="R", required=True, help="why (required)")

    for sub in (listing, show, retry, replay, discard):
        add_state_dir_option(sub)
        add_retention_options(sub)
        sub.add_argument("--actor", default="cli", help=argparse.SUPPRESS)
    for sub in (retry, replay, discard):
        sub.add_argument(
            "--timeout", metavar="S", type=_seconds, default=DEFAULT_TIMEOUT,
            help=f"with a live engine owning the state directory: seconds to wait for its outcome (default {DEFAULT_TIMEOUT:g})",
        )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def main(args: argparse.Namespace) -> int:
    """Run one ``dlq`` action; returns the exit code."""
    try:
        if args.action in _READS:
            return _ACTIONS[args.action](_view(args.state_dir), args)
        owner = live_owner(args.state_dir)
        if owner is None:
            try:
                with local_ownership(args.state_dir), _queue(args) as dlq:
                    return _ACTIONS[args.action](dlq, args)
            except StateDirBusyError as exc:
                # An engine started on the directory meanwhile: it carries the action out.
                owner = exc.owner
                if owner is None:
                    raise
        return _remote(args, owner)
    except CommandTimedOut as exc:
        _error(str(exc))
        return 1
    except UsageError as exc:
        _error(str(exc))
    except StoreError as exc:
        from console.cli import one_line

        _error(one_line(exc))
        return 1
    except (FlowError, KeyError, ValueError) as exc:
        _error(str(exc))
    return 2


def _view(state_dir: Path) -> DeadLetterView:
    """The letters of ``state_dir``, read-only: reading never changes what the owner holds."""
    if not (state_dir / DB_NAME).is_file():
        raise UsageError(f"{state_dir}: no flowconsole state here (no {DB_NAME})")
    check_database(state_dir / DB_NAME)
    return DeadLetterView(state_dir / DB_NAME)


def _remote(args: argparse.Namespace, owner: OwnerInfo) -> int:
    """Have the live owner of the state directory carry the action out; print its outcome."""
    if getattr(args, "workflows", None) is not None:
        sys.stderr.write(
            f"flowconsole dlq: note: engine {owner.label()} owns {args.state_dir} and uses its own "
            "workflow files; --workflows is not used\n"
        )
    view = _view(args.state_dir)
    if args.action == "retry" and args.match is not None:
        filters = _parse_filter(args.match)
        count = view.count_matching(**{**filters, "status": "dead"})
        if count == 0:
            print(f"no dead letters match {args.match}")
            return 0
        command = _send(args, owner, "dlq.retry_matching", {"filters": filters, "expect": count})
        if command.error is not None:
            return _failed(command)
        return _bulk_outcome(command.result)
    view.get(args.id)  # a letter that does not exist is bad input (exit 2), not a failed command
    command = _send(args, owner, f"dlq.{args.action}", {"id": args.id})
    if command.error is not None:
        return _failed(command)
    result = command.result
    if args.action == "discard":
        print(f"{result['id']}: {result['status']}")
        return 0
    return _outcome_line(result["id"], result["status"], result["error_type"], result["error"])


def _send(args: argparse.Namespace, owner: OwnerInfo, kind: str, arguments: dict[str, Any]) -> Any:
    return send(
        args.state_dir, owner, kind, arguments, actor=args.actor, reason=args.reason, timeout=args.timeout
    )


def _failed(command: Any) -> int:
    print(f"{command.args.get('id', command.kind)}: failed in engine {command.owner} ({_short(command.error, 200)})")
    return 1


@contextlib.contextmanager
def _queue(args: argparse.Namespace) -> Iterator[DeadLetterQueue]:
    state_dir: Path = args.state_dir
    if not (state_dir / DB_NAME).is_file():
        raise UsageError(f"{state_dir}: no flowconsole state here (no {DB_NAME})")
    workflows: Path | None = getattr(args, "workflows", None)
    if workflows is not None and not workflows.is_dir():
        raise UsageError(f"{workflows}: not a directory of workflow files")
    store = Store.open(state_dir, retention=retention_from_args(args))
    runtime = Runtime()
    engine = None
    try:
        store.attach(runtime)
        if workflows is not None:
            from engine.host.engine import Engine

            # The store stays ours: the engine must not recover the
            # console's interrupted runs from a CLI command.
            engine = Engine(workflows, runtime=runtime, watch=False, schedules=False)
            engine.start()
        yield runtime.dlq
    finally:
        if engine is not None:
            engine.stop()
        store.close()
        runtime.bus.close()


def _list(dlq: DeadLetterView, args: argparse.Namespace) -> int:
    letters = dlq.list(workflow=args.workflow, status=args.status)
    if args.error:
        letters = [letter for letter in letters if _error_matches(letter, args.error)]
    if args.json:
        _print_json([letter.to_dict() for letter in letters])
        return 0
    if not letters:
        print("no dead letters")
        return 0
    rows = [
        (
            visible(letter.id), letter.status, visible(letter.workflow or "-"), visible(letter.unit),
            str(letter.attempts), visible(letter.error_type.rsplit(".", 1)[-1]),
            visible(_short(letter.error, 50)), _age(letter.last_failure),
        )
        for letter in letters
    ]
    header = ("ID", "STATUS", "WORKFLOW", "UNIT", "ATT", "ERROR", "MESSAGE", "AGE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _show(dlq: DeadLetterView, args: argparse.Namespace) -> int:
    letter = dlq.get(args.id)
    if args.json:
        _print_json(letter.to_dict())
        return 0
    fields = [
        ("id", letter.id), ("status", letter.status), ("source", letter.source),
        ("workflow", letter.workflow), ("unit", letter.unit), ("run", letter.run_id),
        ("attempts", letter.attempts), ("error", f"{letter.error_type}: {letter.error}"),
        ("where", letter.location), ("fingerprint", letter.fingerprint),
        ("first failure", _when(letter.first_failure)), ("last failure", _when(letter.last_failure)),
        ("trace", letter.trace_id),
        ("payload", json.dumps(letter.payload) + ("" if letter.payload_exact else "  (inexact: repr of non-JSON values)")),
    ]
    for name, value in fields:
        print(f"{name + ':':15} {visible(value) if value is not None else '-'}")
    for action in letter.history:
        why = f" ({action.reason})" if action.reason else ""
        print(f"{'history:':15} {_when(action.at)} {visible(f'{action.action} by {action.actor}{why}')}")
    if letter.traceback:
        print("traceback:")
        print(visible(letter.traceback.rstrip(), multiline=True))
    return 0


def _retry(dlq: DeadLetterQueue, args: argparse.Namespace) -> int:
    if args.match is None:
        letter = dlq.retry(args.id, actor=args.actor, reason=args.reason)
        return _outcome(letter)
    filters = _parse_filter(args.match)
    count = dlq.count_matching(**{**filters, "status": "dead"})
    if count == 0:
        print(f"no dead letters match {visible(args.match)}")
        return 0
    outcome = dlq.retry_matching(actor=args.actor, reason=args.reason, expect=count, **filters)
    return _bulk_outcome(
        {"matched": outcome.matched, "succeeded": outcome.succeeded, "failed": outcome.failed, "skipped": outcome.skipped}
    )


def _bulk_outcome(outcome: dict[str, Any]) -> int:
    print(
        f"matched {outcome['matched']}: {len(outcome['succeeded'])} resolved, "
        f"{len(outcome['failed'])} failed again, {len(outcome['skipped'])} skipped"
    )
    for letter_id in outcome["failed"]:
        print(f"  failed again: {visible(letter_id)}")
    for letter_id in outcome["skipped"]:
        print(f"  skipped: {visible(letter_id)} (busy, or no retrier: pass --workflows DIR)")
    return 1 if outcome["failed"] or outcome["skipped"] else 0


def _replay(dlq: DeadLetterQueue, args: argparse.Namespace) -> int:
    return _outcome(dlq.replay(args.id, actor=args.actor, reason=args.reason))


def _discard(dlq: DeadLetterQueue, args: argparse.Namespace) -> int:
    letter = dlq.discard(args.id, args.reason, actor=args.actor)
    print(f"{visible(letter.id)}: {letter.status}")
    return 0


def _outcome(letter: DeadLetter) -> int:
    return _outcome_line(letter.id, letter.status, letter.error_type, letter.error)


def _outcome_line(letter_id: str, status: str, error_type: str, error: str) -> int:
    if status == "resolved":
        print(f"{visible(letter_id)}: resolved")
        return 0
    print(visible(f"{letter_id}: failed again ({error_type}: {_short(error, 200)})"))
    return 1


_READS = {"list", "show"}
_ACTIONS = {"list": _list, "show": _show, "retry": _retry, "replay": _replay, "discard": _discard}


def _parse_filter(text: str) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise UsageError(f"--match {text!r}: expected key=value[,key=value...], got {part!r}")
        if key not in FILTERS:
            raise UsageError(f"--match {text!r}: unknown key {key!r} (use {', '.join(sorted(FILTERS))})")
        filters[key] = value.strip()
    return filters


def _error_matches(letter: DeadLetter, wanted: str) -> bool:
    kind = letter.error_type
    return kind == wanted or kind.rsplit(".", 1)[-1] == wanted or wanted in letter.error


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _age(ts: float) -> str:
    seconds = max(0, int(time.time() - ts))
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _print_json(value: Any) -> None:
    sys.stdout.write(json_escaped(json.dumps(value, indent=2)) + "\n")


def _error(message: str) -> None:
    sys.stderr.write(f"flowconsole dlq: error: {visible(message)}\n")
