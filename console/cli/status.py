"""``flowconsole status``: what a state directory holds, with no engine running.

Reads the store of ``--state-dir`` read-only (`engine.store.status`): the
live owner (null when none holds the lock), workflows, active runs, dead letters
waiting (status dead), breakers open and the database's size. ``--json``
prints one JSON object; otherwise a short table. Exit 0; a directory with no
store is one line and exit 2, a store that cannot be read one line and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from console.byte_sizes import human_size
from console.cli import UsageError, add_state_dir_option
from engine.store.schema import DB_NAME
from engine.store.status import read_status


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowconsole status``."""
    add_state_dir_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def main(args: argparse.Namespace) -> int:
    """Print the status; returns the exit code."""
    status = read_status(args.state_dir)
    if status is None:
        raise UsageError(f"{args.state_dir}: no flowconsole state here (no {DB_NAME})")
    if args.json:
        sys.stdout.write(json.dumps(status.to_dict()) + "\n")
        return 0
    from console.safe import visible

    rows = [
        ("state dir", visible(status.state_dir)),
        ("owner", "none live" if status.owner is None else visible(_owner(status.owner))),
        ("workflows", str(status.workflows)),
        ("runs active", str(status.runs_active)),
        ("dead letters", str(status.dead_letters)),
        ("breakers open", str(status.breakers_open)),
        ("db size", f"{human_size(status.db_size_bytes)} ({status.db_size_bytes} bytes)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")
    return 0



def _owner(owner: Any) -> str:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner.started_at))
    return f"{owner.label()} since {since} (flowconsole {owner.version}, workflows {owner.workflow_dir or '-'})"
