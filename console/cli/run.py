"""``flowconsole run FILE_OR_DIR``: run workflows headless.

Loads the file (or every file of the directory) into an `engine.Engine` and
runs the workflow named by ``--workflow`` (default: every workflow that can
be started by hand, one after the other). A workflow started by bus events
(``trigger={"on": ...}``) expects the event that starts it: a run of every
workflow skips it, and says so; naming it with ``--workflow`` runs it. Load
problems and failed runs make the exit code 1; success is 0; a wrong command
line is 2. A store that cannot be used, or that could not save everything
(a full disk), is one line on stderr and exit code 1 even when the runs
succeeded. ``--json`` writes every engine event and log record as JSON lines
(events to stdout, logs to stderr). ``--watch`` keeps the engine running,
with hot reload and schedules, until interrupted; it prints a line as each
run it started (by hand or by a schedule) ends. A first ctrl+c says what is
still running and waits for it, then prints a summary; a second exits at
once (`console.cli.run_interrupts`). ``--inputs JSON`` (an object) and
``--input KEY=VALUE`` (a string; repeatable, applied after ``--inputs``) are
the runs' inputs. Each outcome line names what the run created: its run id,
or the state-machine instance.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from engine import Engine, Event
from engine.host.loader import DEFAULT_CHECK_TIMEOUT

from console.cli.run_interrupts import InFlight, Interrupts
from console.cli.validate import display_path
from engine.error_text import error_line
from engine.visible_text import json_escaped, visible

# Kinds that react to events by themselves: without a start event there is
# nothing to start by hand.
_REACTIVE = ("event_driven", "choreography")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowconsole run``."""
    parser.add_argument("path", metavar="FILE_OR_DIR", help="a workflow file or a directory of them")
    parser.add_argument("--workflow", metavar="NAME", help="run only this workflow")
    from console.cli import state_dir_path

    parser.add_argument(
        "--state-dir", metavar="D", type=state_dir_path, default=None,
        help="keep events, dead letters and runs in a SQLite store here (default: in memory)",
    )
    parser.add_argument("--watch", action="store_true", help="keep running with hot reload and schedules")
    parser.add_argument("--json", action="store_true", help="events as JSON lines on stdout, logs on stderr")
    from console.cli import positive_seconds

    parser.add_argument("--timeout", type=positive_seconds, default=None, metavar="S", help="give up on a run after S seconds")
    parser.add_argument(
        "--library-log-level", metavar="LEVEL", default="WARNING", type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="level of third-party libraries' loggers, such as watchfiles (default WARNING)",
    )
    parser.add_argument(
        "--input", action="append", default=[], metavar="KEY=VALUE",
        help="an input of the run, as a string (repeatable; after --inputs)",
    )
    parser.add_argument("--inputs", metavar="JSON", help='the run\'s inputs as a JSON object, e.g. \'{"n": 3}\'')
    parser.add_argument(
        "--check-timeout", type=positive_seconds, default=DEFAULT_CHECK_TIMEOUT, metavar="S",
        help=f"seconds each file may take to load (default {DEFAULT_CHECK_TIMEOUT:g})",
    )
    from console.cli import add_executor_option, add_retention_options

    add_retention_options(parser)
    add_executor_option(parser)
    from console.cli.observe_options import add_observe_options

    add_observe_options(parser)


class _Output:
    """Writes events (``--json``) or a human summary; one lock keeps lines whole.

    Every string from a workflow is shown with its control characters made
    visible; a JSON line writes them as ``\\u`` escapes (`json_escaped`).
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.load_failures = 0
        self.finished = {True: 0, False: 0}
        self._lock = threading.Lock()

    def write(self, text: str, stream: Any = None) -> None:
        with self._lock:
            (stream or sys.stdout).write(text + "\n")
            (stream or sys.stdout).flush()

    def on_event(self, event: Event) -> None:
        if event.type == "workflow.load_failed":
            self.load_failures += 1
            if not self.as_json:
                message = " ".join(str(event.data["message"]).split())
                where = display_path(event.data["file"]) + (f":{event.data['line']}" if event.data["line"] else "")
                self.write(visible(f"{where}: {message}"), sys.stderr)
        if self.as_json:
            self.write(json_escaped(json.dumps(event.to_dict(), default=repr)))

    def skipped(self, name: str, reason: str) -> None:
        if self.as_json:
            self.write(json_escaped(json.dumps({"type": "cli.run_skipped", "data": {"name": name, "reason": reason}})))
        else:
            self.write(visible(f"{name}: skipped - {reason}"))

    def outcome(self, name: str, ok: bool, detail: str, run_id: str | None = None) -> None:
        with self._lock:
            self.finished[ok] += 1
        if self.as_json:
            data = {"name": name, "ok": ok, "detail": detail, "run_id": run_id}
            self.write(json_escaped(json.dumps({"type": "cli.run_finished", "data": data})))
        else:
            self.write(visible(f"{name}: {'ok' if ok else 'FAILED'}{' - ' + detail if detail else ''}"))

    def summary(self) -> None:
        ok, failed = self.finished[True], self.finished[False]
        if self.as_json:
            self.write(json.dumps({"type": "cli.watch_stopped", "data": {"ok": ok, "failed": failed}}))
        else:
            self.write(f"stopped: {ok + failed} run{'s' if ok + failed != 1 else ''} ended, {ok} ok, {failed} failed")


def _targets(engine: Engine, wanted: str | None, out: _Output) -> list[str]:
    from console.cli import UsageError

    names = engine.workflow_names()
    if wanted is not None:
        if wanted in names:
            return [wanted]
        if out.load_failures:
            return []
        raise UsageError(f"no workflow {wanted!r} loaded (available: {', '.join(names) or 'none'})")
    targets = []
    for name in names:
        definition = engine.definition(name)
        if definition.kind in _REACTIVE and not definition.meta.start_event:
            continue
        pattern = definition.meta.event_pattern
        if pattern is not None:
            out.skipped(name, f"started by {pattern!r} events (run it alone with --workflow {name})")
            continue
        targets.append(name)
    return targets


def parse_inputs(pairs: list[str], text: str | None) -> dict[str, Any] | None:
    """The inputs ``--inputs JSON`` and ``--input KEY=VALUE`` give (None when neither)."""
    from console.cli import UsageError

    if text is None and not pairs:
        return None
    inputs: dict[str, Any] = {}
    if text is not None:
        try:
            inputs = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--inputs: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(inputs, dict):
            raise UsageError(f"--inputs: expected a JSON object, got {type(inputs).__name__}")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--input {pair!r}: expected KEY=VALUE")
        inputs[key.strip()] = value
    return inputs


def _created(engine: Engine, name: str, run_id: str, result: Any) -> str:
    """What a finished run created, as its outcome line says it."""
    try:
        kind = engine.definition(name).kind
    except Exception:  # noqa: BLE001 - unloaded meanwhile: say what is known
        kind = None
    if kind == "state_machine":
        return f"instance {run_id} in state {_short(result)}"
    return f"run {run_id}" if result is None else f"result {_short(result)} (run {run_id})"


def _failure(exc: BaseException) -> str:
    return " ".join(error_line(exc).split())


def _run_one(engine: Engine, name: str, timeout: float | None, inputs: dict[str, Any] | None, out: _Output) -> bool:
    run_id = None
    try:
        run_id = engine.start_run(name, inputs=dict(inputs) if inputs is not None else None)
        result = engine.run_record(run_id).future.result(timeout)
    except Exception as exc:  # noqa: BLE001 - a failed run is reported, not raised
        out.outcome(name, False, _failure(exc) + (f" (run {run_id})" if run_id else ""), run_id)
        return False
    out.outcome(name, True, _created(engine, name, run_id, result), run_id)
    return True


# The events that say a trigger started a run, and which run.
_TRIGGERED = ("workflow.schedule_fired", "workflow.event_fired")


class _Watcher:
    """Under ``--watch``: a line as each triggered run ends (``workflow.schedule_fired``, ``workflow.event_fired``)."""

    def __init__(self, engine: Engine, out: _Output) -> None:
        self.engine = engine
        self.out = out

    def on_event(self, event: Event) -> None:
        if event.type not in _TRIGGERED or not event.data.get("run_id"):
            return
        name, run_id = str(event.data["name"]), str(event.data["run_id"])
        try:
            future = self.engine.run_record(run_id).future
        except KeyError:
            return  # already forgotten: the engine keeps recent runs only
        future.add_done_callback(lambda f: self._ended(name, run_id, f))

    def _ended(self, name: str, run_id: str, future: Any) -> None:
        error = future.exception() if not future.cancelled() else Exception("cancelled")
        if error is not None:
            self.out.outcome(name, False, f"{_failure(error)} (run {run_id})", run_id)
        else:
            self.out.outcome(name, True, _created(self.engine, name, run_id, future.result()), run_id)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main(args: argparse.Namespace) -> int:
    """Run ``flowconsole run``; returns the exit code."""
    from console.cli import UsageError

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{args.path}: no such file or directory")
    if path.is_file() and path.suffix != ".py":
        raise UsageError(f"{args.path}: not a Python workflow file")
    args.run_inputs = parse_inputs(args.input, args.inputs)
    from console.cli import opened_executor

    with opened_executor(args.executor) as executor:
        out = _Output(args.json)
        log_handler = None
        if args.json:
            from engine import install_json_logging

            log_handler = install_json_logging(stream=sys.stderr)
            _quiet_libraries(args.library_log_level)
        return _run_engine(args, path, out, executor, log_handler)


# Libraries whose INFO records ("1 change detected") are noise on an operator's stream.
_LIBRARY_LOGGERS = ("watchfiles", "asyncio", "urllib3")


def _quiet_libraries(level: str) -> None:
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def _run_engine(args: argparse.Namespace, path: Path, out: _Output, executor: Any, log_handler: Any) -> int:
    from console.cli import retention_from_args

    engine = Engine(
        path, state_dir=args.state_dir, watch=args.watch, schedules=args.watch,
        check_timeout=args.check_timeout, executor=executor, retention=retention_from_args(args),
    )
    from console.cli.observe_options import observe

    observing = observe(args, engine)
    inputs = args.run_inputs
    engine.bus.subscribe("*", out.on_event)
    if args.watch:
        watcher = _Watcher(engine, out)
        for event_type in _TRIGGERED:
            engine.bus.subscribe(event_type, watcher.on_event)
    in_flight = InFlight()
    engine.bus.subscribe("*", in_flight.on_event)
    interrupts = Interrupts(in_flight, as_json=args.json, state_dir=args.state_dir)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    if threading.current_thread() is threading.main_thread():
        interrupts.install(watch=args.watch)
    ok = True
    interrupted = False
    try:
        engine.start()
        ok = out.load_failures == 0 or args.watch
        # Under --watch the schedules start runs; only a named workflow runs at once.
        targets = [] if args.watch and args.workflow is None else _targets(engine, args.workflow, out)
        for name in targets:
            ok = _run_one(engine, name, args.timeout, inputs, out) and ok
        if args.workflow is not None and not targets:
            ok = False
        if args.watch:
            interrupts.wait()
            interrupted = True
    finally:
        engine.stop()
        observing.close()
        # After stop: runs cancelled by it have had their lines.
        if interrupted:
            out.summary()
        if log_handler is not None:
            from engine.observe.logs import uninstall_handler

            uninstall_handler(log_handler)
        # After an interrupt the handler stays: the interpreter's exit still
        # waits for abandoned task threads, and a second ctrl+c must cut that.
        if threading.current_thread() is threading.main_thread() and not interrupts.interrupted:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    failure = engine.store.failure if engine.store is not None else None
    if failure is not None:
        from console.cli import one_line

        out.write(f"flowconsole run: error: the store could not save everything: {one_line(failure)}", sys.stderr)
        return 1
    return 0 if ok else 1
