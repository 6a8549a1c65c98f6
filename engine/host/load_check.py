"""The child-process check: load a workflow file where it cannot hurt the engine.

Each check *slot* is a small process tree::

    engine ──> supervisor (a session and process group of its own) ──> worker

The worker loads the files it is sent, one JSON line each on stdin (import,
build, validate, as the engine would), and answers one JSON line per file.
The supervisor only starts the worker and, after every file, answers the
worker's handshake. So a file that signals its parent hits the supervisor,
never the engine, and the worker sees the handshake fail; an audit hook in
the worker refuses ``os.kill`` of its parent or its group outright and makes
that the file's problem with its line. A file that forks at import is a
problem too (the forked copy would live on); whatever it left running dies
with the slot's process group, killed when the check ends.

What a file writes to stdout or stderr while checked goes to a temporary
file in the worker, comes back with its result (`CheckResult.output`) and is
logged by the caller: never on the engine's stdout. A file gets ``timeout``
seconds: past that, faulthandler dumps every stack to the slot's stderr and
ends the worker, so the line the file hangs on is reported; the engine gives
up on a slot ``_GRACE`` seconds later whatever happens. A slot whose worker
died starts afresh for the next file.

Files are checked by up to ``os.cpu_count()`` slots at once, each taking the
next file from a shared queue, so files that hang cost ``timeout`` per
slot, not per file.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import DEFAULT_CHECK_TIMEOUT, LoadProblem

log = logging.getLogger("engine.loader")

_GRACE = 5.0
_START_TIMEOUT = 60.0
_READY = b"ready\n"
_OUTPUT_LIMIT = 16_000
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_TIMEOUT_MARK = "Timeout ("

_SUPERVISOR = r"""
import os, signal, subprocess, sys
ping_r, ping_w = os.pipe()
pong_r, pong_w = os.pipe()
worker = subprocess.Popen(
    [sys.executable, "-c", "from engine.host.load_check import _worker_main; _worker_main()",
     sys.argv[1], str(ping_w), str(pong_r)],
    pass_fds=(ping_w, pong_r),
)
os.close(ping_w)
os.close(pong_r)
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
try:
    while os.read(ping_r, 1):
        os.write(pong_w, b"!")
except OSError:
    pass
code = worker.wait()
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
os._exit(code)
"""


@dataclass(slots=True)
class CheckResult:
    """What the check of one file found: its problems, its workflows, what it printed."""

    problems: list[LoadProblem] = field(default_factory=list)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""

    def __iter__(self):
        # (problems, workflows), as the check has always returned.
        return iter((self.problems, self.workflows))


# -- the worker (runs in the check process) ----------------------------------


class _Guard:
    """What the worker forbids a file: signalling its parent or group, forking."""

    def __init__(self) -> None:
        self.file: str | None = None
        self.parent = os.getppid()
        self.group = os.getpgrp()
        self.pid = os.getpid()
        self.violation: tuple[int, str] | None = None

    def _line(self) -> int:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.file:
                return frame.f_lineno
            frame = frame.f_back
        return 1

    def _refuse(self, what: str) -> None:
        if self.file is None or os.getpid() != self.pid:
            return
        if self.violation is None:
            self.violation = (self._line(), what)
        raise PermissionError(f"a workflow file must not {what}")

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "os.kill":
            pid = args[0]
            if pid == self.parent or pid <= 0:
                self._refuse(f"signal its parent process or its group (os.kill({pid}, ...))")
        elif event == "os.killpg" and args[0] in (self.group, 0):
            self._refuse(f"signal its process group (os.killpg({args[0]}, ...))")

    def before_fork(self) -> None:
        if self.file is not None and os.getpid() == self.pid and self.violation is None:
            self.violation = (self._line(), "fork the process at import (the copy would outlive its check)")


def _read_capture(fd: int) -> str:
    size = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, _OUTPUT_LIMIT).decode(errors="replace")
    if size > _OUTPUT_LIMIT:
        text += f"\n... ({size - _OUTPUT_LIMIT} more bytes)"
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return text


def _worker_main() -> None:
    """Entry point of the worker: check the files sent on stdin, one at a time."""
    from .loader import WorkflowLoadError, load_source
    from ..runtime import Runtime
    from .kinds import teardown
    import faulthandler

    timeout, ping, pong = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    requests = os.fdopen(os.dup(0), "rb")
    results = os.dup(1)
    errors = os.dup(2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    capture = tempfile.TemporaryFile()
    os.dup2(capture.fileno(), 1)
    os.dup2(capture.fileno(), 2)
    # A crash (a segfault in an extension) shows its stack where the engine reads it.
    faulthandler.enable(file=errors)
    guard = _Guard()
    private = (requests.fileno(), results, errors, ping, pong)

    def forked_child() -> None:
        # A copy forked by a file must not read requests or answer for the worker.
        for fd in private:
            try:
                os.close(fd)
            except OSError:
                pass

    os.register_at_fork(before=guard.before_fork, after_in_child=forked_child)
    sys.addaudithook(guard.audit)
    os.write(results, _READY)
    for raw in requests:
        item = json.loads(raw)
        file, source = item["file"], item["source"].encode("latin-1")
        guard.file, guard.violation = file, None
        faulthandler.dump_traceback_later(timeout, exit=True, file=errors)
        problems: list[dict[str, Any]] = []
        workflows: list[dict[str, Any]] = []
        try:
            for built in load_source(file, source, Runtime(), capture_output=False):
                workflows.append({"name": built.name, "kind": built.kind, "line": built.line})
                teardown(built)
        except WorkflowLoadError as exc:
            problems.append(exc.problem.to_dict())
        faulthandler.cancel_dump_traceback_later()
        if os.getpid() != guard.pid:
            os._exit(0)
        guard.file = None
        sys.stdout.flush()
        sys.stderr.flush()
        last = False
        if guard.violation is not None:
            line, what = guard.violation
            problems.insert(0, LoadProblem(file, line, f"a workflow file must not {what}").to_dict())
        try:
            os.write(ping, b"?")
            orphaned = os.read(pong, 1) == b""
        except OSError:
            orphaned = True
        if orphaned:
            last = True
            problems.insert(0, LoadProblem(
                file, 1, "the process that started the check died while the file loaded: "
                "a workflow file must not signal other processes",
            ).to_dict())
        report = {
            "file": file, "problems": problems, "workflows": workflows,
            "output": _read_capture(capture.fileno()), "last": last,
        }
        os.write(results, (json.dumps(report) + "\n").encode())
        if last:
            break
    os._exit(0)


# -- the engine's side --------------------------------------------------------


def _child_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class _SlotDied(Exception):
    """The slot's worker ended (or stopped answering) before it answered."""

    def __init__(self, code: int | None, stderr: str, timed_out: bool) -> None:
        super().__init__(code)
        self.code = code
        self.stderr = stderr
        self.timed_out = timed_out


class _Slot:
    """One supervisor and worker; used by one thread at a time."""

    def __init__(self, timeout: float, env: dict[str, str]) -> None:
        self._timeout = timeout
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SUPERVISOR, str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=env, start_new_session=True,
        )
        self._buffer = b""
        self._stderr_seen = 0
        self.alive = True
        ready = self._read_line(time.monotonic() + _START_TIMEOUT + timeout)
        if ready != _READY:
            died = _SlotDied(None if ready is None else self._exit_code(), self._new_stderr(), ready is None)
            self.close()
            raise died

    def check(self, file: str, source: bytes) -> dict[str, Any]:
        """Send one file; its report, or `_SlotDied`."""
        request = json.dumps({"file": file, "source": source.decode("latin-1")}) + "\n"
        self._new_stderr()
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(request.encode())
            self._proc.stdin.flush()
        except OSError:
            self.alive = False
            raise _SlotDied(self._exit_code(), self._new_stderr(), False) from None
        line = self._read_line(time.monotonic() + self._timeout + _GRACE)
        if line is None:
            self.alive = False
            raise _SlotDied(None, self._new_stderr(), True)
        if not line.endswith(b"\n"):
            self.alive = False
            raise _SlotDied(self._exit_code(), self._new_stderr(), False)
        report = json.loads(line)
        if report["last"]:
            self.alive = False
        return report

    def _read_line(self, deadline: float) -> bytes | None:
        """The next line from the worker; what is there at EOF; None at the deadline."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            readable, _, _ = select.select([fd], [], [], min(remaining, 0.5))
            if not readable:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"

    def _exit_code(self) -> int | None:
        try:
            return self._proc.wait(_GRACE)
        except subprocess.TimeoutExpired:
            return None

    def _new_stderr(self) -> str:
        self._stderr.seek(self._stderr_seen)
        data = self._stderr.read()
        self._stderr_seen += len(data)
        return data.decode(errors="replace")

    def close(self) -> None:
        """Kill the slot's whole process group (and whatever a file left in it)."""
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._proc.wait()
        self._stderr.close()


def check_in_child(file: str, source: bytes, timeout: float = DEFAULT_CHECK_TIMEOUT) -> CheckResult:
    """Load ``source`` as ``file`` in a child process; (problems, workflows)."""
    return check_files_in_child({file: source}, timeout)[file]


def check_files_in_child(
    sources: dict[str, bytes], timeout: float = DEFAULT_CHECK_TIMEOUT, *, parallel: int | None = None
) -> dict[str, CheckResult]:
    """Check each file in a child process, ``timeout`` seconds per file.

    Up to ``parallel`` slots (default: the core count) check the files at
    once. A file that hangs, exits, crashes or signals its parent is
    reported as a problem (with the line it hung on when it can be known);
    the caller is never harmed and no process of the check outlives it.
    """
    results: dict[str, CheckResult] = {}
    if not sources:
        return results
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for file in sources:
        todo.put(file)
    lock = threading.Lock()
    env = _child_env()

    def serve() -> None:
        slot: _Slot | None = None
        try:
            while True:
                try:
                    file = todo.get_nowait()
                except queue.Empty:
                    return
                result = _check_one(file, sources[file], timeout, env, slot)
                slot = result[1]
                with lock:
                    results[file] = result[0]
                if result[2]:
                    # The engine cannot start a check at all: no other file can be checked either.
                    _fail_the_rest(todo, sources, result[0].problems[0], results, lock)
                    return
        finally:
            if slot is not None:
                slot.close()

    count = max(1, min(parallel or os.cpu_count() or 1, len(sources)))
    threads = [threading.Thread(target=serve, name=f"flowconsole-check-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for file, result in results.items():
        # A file that passes is loaded in process next, where its output is logged again.
        if result.output and result.problems:
            log.info("workflow file %s wrote while being checked: %s", file, result.output)
    return {file: results[file] for file in sources}


def _check_one(
    file: str, source: bytes, timeout: float, env: dict[str, str], slot: _Slot | None
) -> tuple[CheckResult, _Slot | None, bool]:
    """(result, the slot to use next, whether checks cannot start at all)."""
    if slot is None:
        try:
            slot = _Slot(timeout, env)
        except _SlotDied as exc:
            reason = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else f"exit code {exc.code}"
            problem = LoadProblem(
                file, 1, f"could not check the file: the check process failed to start ({reason})", exc.stderr[-4000:],
            )
            return CheckResult([problem]), None, True
    try:
        report = slot.check(file, source)
    except _SlotDied as exc:
        slot.close()
        return CheckResult([_death_problem(file, timeout, exc)]), None, False
    result = CheckResult([LoadProblem(**p) for p in report["problems"]], report["workflows"], report["output"])
    if not slot.alive:
        slot.close()
        slot = None
    return result, slot, False


def _fail_the_rest(
    todo: queue.SimpleQueue[str], sources: dict[str, bytes], problem: LoadProblem,
    results: dict[str, CheckResult], lock: threading.Lock,
) -> None:
    while True:
        try:
            file = todo.get_nowait()
        except queue.Empty:
            return
        with lock:
            results[file] = CheckResult([LoadProblem(file, 1, problem.message, problem.traceback)])


def _frame_line(file: str, stderr: str) -> int:
    """The innermost line of ``file`` in a faulthandler or traceback dump."""
    dump = stderr[stderr.rfind(_TIMEOUT_MARK):] if _TIMEOUT_MARK in stderr else stderr
    lines = [int(m.group("line")) for m in _FRAME.finditer(dump) if m.group("file") == file]
    if not lines:
        return 1
    # faulthandler prints the innermost frame first, tracebacks print it last.
    return lines[0] if _TIMEOUT_MARK in stderr else lines[-1]


def _death_problem(file: str, timeout: float, died: _SlotDied) -> LoadProblem:
    stderr, code = died.stderr, died.code
    line = _frame_line(file, stderr)
    if died.timed_out or _TIMEOUT_MARK in stderr:
        message = (
            f"loading did not finish within {timeout:g}s (an endless loop or a blocking call "
            "at import or in a builder?)"
        )
    else:
        message = (
            f"the file ended its process while loading (exit code {code}): "
            "a workflow file must not exit or crash the interpreter"
        )
    return LoadProblem(file, line, message, stderr[-4000:])
