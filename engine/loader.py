"""Loading workflow files: discover, check in a child process, import, build.

A file goes through three stages, each of which may fail with a `LoadProblem`
naming the file and line:

1. `check_in_child` runs the whole load (import, build, validate) in a
   separate Python process with a timeout, from the exact bytes that will be
   imported. A file that loops forever, blocks, calls ``sys.exit`` or
   ``os._exit`` at import hurts only that child.
2. `import_source` compiles and executes the same bytes as a module with a
   name of its own (``_flowconsole_wf_<digest>``), collecting its
   ``@workflow`` declarations; the module is removed from ``sys.modules``
   afterwards, so the next version of the file never sees the old one. The
   source is compiled from memory, so no ``__pycache__`` is written into the
   watched directory.
3. `build_declaration` calls each builder under ``building(runtime)``
   (objects it creates, and threads it starts, report to that runtime's
   bus: `engine.build_scope`), recognises the kind,
   applies the metadata and validates it (`engine.workflow_kinds`).

Files whose name starts with ``_`` or ``.`` are not workflow files (helpers,
editor temporaries); neither is anything not ending in ``.py``.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import traceback as tb
import types
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import FlowError
from .build_scope import building, importing
from .runtime import Runtime
from .workflow_file import BuildContext, Declaration, WorkflowMetadataError, collecting, stop_collecting
from .workflow_kinds import BuiltWorkflow, WorkflowBuildError, inspect_built, teardown

log = logging.getLogger("engine.loader")

MODULE_PREFIX = "_flowconsole_wf_"
DEFAULT_CHECK_TIMEOUT = 10.0


class WorkflowLoadError(FlowError):
    """A workflow file could not be loaded; ``problem`` says where and why."""

    def __init__(self, problem: LoadProblem) -> None:
        super().__init__(problem.format())
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """What is wrong with a workflow file, and where."""

    file: str
    line: int
    message: str
    traceback: str = ""
    workflow: str | None = None
    field: str | None = None

    def format(self) -> str:
        """``file:line: message``, as compilers print it."""
        return f"{self.file}:{self.line}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as plain data (for events and JSON output)."""
        return asdict(self)


def is_workflow_file(path: Path) -> bool:
    """Whether ``path`` names a workflow file (``*.py``, not ``_*`` or ``.*``)."""
    return path.suffix == ".py" and not path.name.startswith(("_", "."))


def discover(path: Path) -> list[Path]:
    """The workflow files of a directory (sorted), or ``[path]`` for a file."""
    path = Path(path)
    if path.is_file():
        return [path.resolve()]
    return sorted(p.resolve() for p in path.iterdir() if p.is_file() and is_workflow_file(p))


def digest_of(source: bytes) -> str:
    """The content hash that decides whether a file changed."""
    return hashlib.sha256(source).hexdigest()


def _line_in(file: str, exc: BaseException, default: int) -> int:
    """The innermost line of ``file`` in the traceback of ``exc``."""
    if isinstance(exc, SyntaxError) and exc.filename == file and exc.lineno:
        return exc.lineno
    line = default
    for frame in tb.extract_tb(exc.__traceback__):
        if frame.filename == file and frame.lineno:
            line = frame.lineno
    return line


def problem_from(file: str, exc: BaseException, *, line: int = 1, workflow: str | None = None, stage: str) -> LoadProblem:
    """A `LoadProblem` describing ``exc`` raised while ``stage`` ran."""
    text = "".join(tb.format_exception(exc))
    if isinstance(exc, WorkflowMetadataError):
        return LoadProblem(exc.file, exc.line, str(exc), text, exc.workflow, exc.field)
    if isinstance(exc, WorkflowBuildError):
        return LoadProblem(file, _line_in(file, exc, exc.line or line), str(exc), text, exc.workflow, exc.field)
    if isinstance(exc, SystemExit):
        message = f"sys.exit({exc.code!r}) called {stage}: a workflow file must not exit the process"
    elif isinstance(exc, SyntaxError):
        message = f"SyntaxError: {exc.msg}"
    else:
        message = f"{type(exc).__name__} {stage}: {exc}"
    if workflow is not None and not isinstance(exc, SystemExit):
        message = f"workflow {workflow!r}: {message}"
    return LoadProblem(file, _line_in(file, exc, line), message, text, workflow)


def import_source(file: str, source: bytes) -> list[Declaration]:
    """Execute ``source`` as the module of ``file``; return its declarations.

    Raises `WorkflowLoadError`. Nothing stays in ``sys.modules``.
    """
    module_name = f"{MODULE_PREFIX}{digest_of(file.encode())[:12]}_{digest_of(source)[:12]}"
    module = types.ModuleType(module_name)
    module.__file__ = file
    found, token = collecting()
    sys.modules[module_name] = module
    try:
        code = compile(source, file, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - loading workflow code is the job
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure becomes a LoadProblem
        raise WorkflowLoadError(problem_from(file, exc, stage="at import")) from exc
    finally:
        stop_collecting(token)
        sys.modules.pop(module_name, None)
    if not found:
        raise WorkflowLoadError(LoadProblem(
            file, 1, "no workflow declared: decorate a builder function with @workflow(name=...)"
        ))
    seen: dict[str, int] = {}
    for decl in found:
        if decl.meta.name in seen:
            raise WorkflowLoadError(LoadProblem(
                file, decl.line,
                f"duplicate workflow name {decl.meta.name!r} (first declared on line {seen[decl.meta.name]})",
                workflow=decl.meta.name, field="name",
            ))
        seen[decl.meta.name] = decl.line
    return found


def build_declaration(decl: Declaration, runtime: Runtime) -> BuiltWorkflow:
    """Call the builder of ``decl`` under ``runtime`` and validate the result."""
    name = decl.meta.name
    try:
        with building(runtime):
            retry = decl.meta.retry.policy() if decl.meta.retry else None
            breakers = {
                spec.name: runtime.breakers.get_or_create(spec.name, **spec.config())
                for spec in decl.meta.breaker_specs()
            }
            ctx = BuildContext(decl.meta, runtime, retry, breakers)
            obj = decl.builder(ctx) if _takes_context(decl.builder) else decl.builder()
            return inspect_built(decl, obj)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure becomes a LoadProblem
        raise WorkflowLoadError(
            problem_from(decl.file, exc, line=decl.line, workflow=name, stage="while building")
        ) from exc


def _takes_context(builder: Any) -> bool:
    import inspect

    params = [
        p for p in inspect.signature(builder).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return bool(params)


def load_source(file: str, source: bytes, runtime: Runtime) -> list[BuiltWorkflow]:
    """Import ``source`` and build every workflow it declares, all or nothing.

    Raises `WorkflowLoadError`; on failure nothing the file built stays
    subscribed to the runtime's bus.
    """
    with importing(file) as thread_lines:
        declarations = import_source(file, source)
    for line in thread_lines:
        log.warning(
            "%s:%d: a thread started at import runs outside the engine (no runtime is current "
            "there, so what it publishes reaches no engine): start it in the builder instead",
            file, line,
        )
    built: list[BuiltWorkflow] = []
    try:
        for decl in declarations:
            built.append(build_declaration(decl, runtime))
    except WorkflowLoadError:
        for done in built:
            teardown(done)
        raise
    return built


# -- the child-process check ------------------------------------------------

_CHILD = "from engine.loader import _child_main; _child_main()"
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_TIMEOUT_MARK = "Timeout ("
_READY = b"ready\n"

CheckResult = tuple[list[LoadProblem], list[dict[str, Any]]]


def _child_main() -> None:
    """Entry point of the check process.

    Reads a JSON list of ``{"file", "source"}`` (source as latin-1 text) on
    stdin and writes one JSON line per file, as soon as it is checked, to the
    original stdout; the files' own output goes to stderr. Each file gets
    ``argv[1]`` seconds: past that, faulthandler dumps every stack to stderr
    and ends the process, so the parent reports the line the file hangs on.
    """
    timeout = float(sys.argv[1])
    items = json.loads(sys.stdin.buffer.read())
    result_fd = os.dup(1)
    os.dup2(2, 1)
    os.write(result_fd, _READY)
    for item in items:
        file, source = item["file"], item["source"].encode("latin-1")
        faulthandler.dump_traceback_later(timeout, exit=True)
        runtime = Runtime()
        problems: list[dict[str, Any]] = []
        workflows: list[dict[str, Any]] = []
        try:
            for built in load_source(file, source, runtime):
                workflows.append({"name": built.name, "kind": built.kind, "line": built.line})
                teardown(built)
        except WorkflowLoadError as exc:
            problems.append(exc.problem.to_dict())
        faulthandler.cancel_dump_traceback_later()
        line = json.dumps({"file": file, "problems": problems, "workflows": workflows}) + "\n"
        os.write(result_fd, line.encode())
    os._exit(0)


def _frame_line(file: str, stderr: str) -> int:
    """The innermost line of ``file`` in a faulthandler or traceback dump."""
    dump = stderr[stderr.rfind(_TIMEOUT_MARK):] if _TIMEOUT_MARK in stderr else stderr
    lines = [int(m.group("line")) for m in _FRAME.finditer(dump) if m.group("file") == file]
    if not lines:
        return 1
    # faulthandler prints the innermost frame first, tracebacks print it last.
    return lines[0] if _TIMEOUT_MARK in stderr else lines[-1]


def _child_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_in_child(file: str, source: bytes, timeout: float = DEFAULT_CHECK_TIMEOUT) -> CheckResult:
    """Load ``source`` as ``file`` in a child process; (problems, workflows)."""
    return check_files_in_child({file: source}, timeout)[file]


def check_files_in_child(sources: dict[str, bytes], timeout: float = DEFAULT_CHECK_TIMEOUT) -> dict[str, CheckResult]:
    """Load each file in a child process, ``timeout`` seconds per file.

    One child checks the files in turn. A file that hangs, exits or crashes
    the child is reported as a problem (with the line it hung on when it can
    be known) and a new child checks the files after it; the caller is never
    harmed.
    """
    results: dict[str, CheckResult] = {}
    pending = list(sources)
    env = _child_env()
    while pending:
        payload = json.dumps([{"file": f, "source": sources[f].decode("latin-1")} for f in pending])
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, str(timeout)],
                input=payload.encode(), capture_output=True, check=False, env=env,
                timeout=timeout * len(pending) + 5.0,
            )
            stdout, stderr, code = proc.stdout, proc.stderr.decode(errors="replace"), proc.returncode
        except subprocess.TimeoutExpired as exc:
            stdout, stderr, code = exc.stdout or b"", (exc.stderr or b"").decode(errors="replace"), None
        if not stdout.startswith(_READY):
            # The check process died before reading a file: the engine itself
            # failed to import there, which is no file's fault.
            reason = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
            for file in pending:
                results[file] = ([LoadProblem(
                    file, 1, f"could not check the file: the check process failed to start ({reason})", stderr[-4000:],
                )], [])
            break
        for raw in stdout[len(_READY):].decode(errors="replace").splitlines():
            report = json.loads(raw)
            results[report["file"]] = ([LoadProblem(**p) for p in report["problems"]], report["workflows"])
        pending = [f for f in pending if f not in results]
        if not pending:
            break
        culprit = pending.pop(0)
        results[culprit] = ([_death_problem(culprit, timeout, stderr, code)], [])
    return results


def _death_problem(file: str, timeout: float, stderr: str, code: int | None) -> LoadProblem:
    line = _frame_line(file, stderr)
    if code is None or _TIMEOUT_MARK in stderr:
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
