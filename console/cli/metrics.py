"""``flowconsole metrics``: the engine's metrics in the Prometheus text format.

Two sources:

* ``--state-dir D`` (default ``./.flowconsole``): the metrics rebuilt from the
  event log of the SQLite store in D, the one the console and ``flowconsole
  run --state-dir`` write. Counters and durations cover every event the log
  still holds (retention may have dropped the oldest).
* ``--workflows DIR``: load the workflow files of DIR, run each workflow
  headless once (in memory), and print the metrics of those runs.

The text goes to stdout, ready for a Prometheus textfile collector or a
pushgateway. A missing source is one line on stderr, exit 2; a store that
cannot be used (damaged, read-only, no space left) is one line, exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.cli import UsageError, positive_seconds
from engine import Runtime
from engine.observe.engine_metrics import attach_engine_metrics, metrics_from_events
from engine.errors import FlowError
from engine.observe.metrics import MetricsCollector
from engine.store import StoreError
from engine.error_text import error_line
from engine.visible_text import visible


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowconsole metrics``."""
    from console.cli import state_dir_path

    parser.add_argument(
        "--state-dir", metavar="D", type=state_dir_path, default=None,
        help="rebuild the metrics from the event log of the store in D (default: ./.flowconsole)",
    )
    parser.add_argument(
        "--workflows", metavar="DIR", type=Path, default=None,
        help="instead, run every workflow of DIR once, headless, and print the metrics of those runs",
    )
    parser.add_argument("--workflow", metavar="NAME", help="with --workflows: run only this workflow")
    parser.add_argument("--timeout", type=positive_seconds, default=60.0, metavar="S", help="with --workflows: give up on a run after S seconds")


def main(args: argparse.Namespace) -> int:
    """Print the metrics; returns the exit code."""
    if args.workflows is not None and args.state_dir is not None:
        raise UsageError("give either --state-dir or --workflows, not both")
    try:
        if args.workflows is not None:
            metrics, ok = _from_headless_run(args.workflows, args.workflow, args.timeout)
        else:
            metrics, ok = _from_state_dir(args.state_dir or Path(".flowconsole")), True
    except StoreError:
        raise  # an unusable store: one line and exit 1 (console.cli)
    except FlowError as exc:
        raise UsageError(" ".join(str(exc).split())) from exc
    # Label values hold workflow and task names: no control byte may pass.
    sys.stdout.write(visible(metrics.to_prometheus(), multiline=True))
    return 0 if ok else 1


def _from_state_dir(state_dir: Path) -> MetricsCollector:
    from engine.store.event_log import query_events
    from engine.store.schema import DB_NAME, check_database, connect

    if not (state_dir / DB_NAME).is_file():
        raise UsageError(
            f"{state_dir}: no flowconsole state here (no {DB_NAME}); give the --state-dir the "
            "console or 'flowconsole run --state-dir' used, or --workflows DIR to run workflows now"
        )
    # Read-only: a live engine may own the directory, and reading must not act behind its back.
    check_database(state_dir / DB_NAME)
    conn = connect(state_dir / DB_NAME, "normal", readonly=True)
    try:
        if not conn.execute("PRAGMA user_version").fetchone()[0]:
            # An engine has just made the file and not yet its tables: nothing happened yet.
            return metrics_from_events([])
        return metrics_from_events(query_events(conn))
    finally:
        conn.close()


def _from_headless_run(directory: Path, wanted: str | None, timeout: float) -> tuple[MetricsCollector, bool]:
    from engine.host.engine import Engine

    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory of workflow files")
    runtime = Runtime()
    attach_engine_metrics(runtime)
    engine = Engine(directory, runtime=runtime, watch=False, schedules=False)
    ok = True
    try:
        engine.start()
        names = engine.workflow_names()
        if wanted is not None:
            if wanted not in names:
                raise UsageError(f"no workflow {wanted!r} loaded (available: {', '.join(names) or 'none'})")
            names = [wanted]
        for name in names:
            if not _runnable(engine, name):
                continue
            try:
                engine.run(name, timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - a failed run is a metric, and a line on stderr
                ok = False
                sys.stderr.write(visible(f"{name}: {' '.join(error_line(exc).split())}") + "\n")
    finally:
        engine.stop()
    return runtime.metrics, ok


def _runnable(engine: object, name: str) -> bool:
    # Event-driven workflows without a start event only react: nothing to start.
    definition = engine.definition(name)  # type: ignore[attr-defined]
    if definition.kind in ("event_driven", "choreography"):
        return bool(getattr(definition.meta, "start_event", None))
    return True
