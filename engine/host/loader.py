"""Loading workflow files: discover, check in a child process, import, build.

A file goes through three stages, each of which may fail with a `LoadProblem`
naming the file and line:

1. `engine.load_check.check_in_child` runs the whole load (import, build,
   validate) in a separate Python process with a timeout, from the exact
   bytes that will be imported. A file that loops forever, blocks, calls
   ``sys.exit`` or ``os._exit``, forks or signals its parent at import hurts
   only that child.
2. `import_source` compiles and executes the same bytes as a module with a
   name of its own (``_flowconsole_wf_<digest>``), collecting its
   ``@workflow`` declarations; the module is removed from ``sys.modules``
   afterwards, so the next version of the file never sees the old one. The
   source is compiled from memory, so no ``__pycache__`` is written into the
   watched directory.
3. `build_declaration` calls each builder under ``building(runtime)``
   (objects it creates, and threads it starts, report to that runtime's
   bus: `engine.host.build_scope`), recognises the kind,
   applies the metadata and validates it (`engine.host.kinds`).

Files whose name starts with ``_`` or ``.`` are not workflow files (helpers,
editor temporaries); neither is anything not ending in ``.py``.
"""

from __future__ import annotations

import hashlib
import logging

import sys
import traceback as tb
import types
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import FlowError
from ..runtime import Runtime
from .import_output import capturing
from .workflow_entries import UnreadableEntryError, entry_path, os_reason, read_entry
from .build_scope import building, importing
from .workflow_file import BuildContext, Declaration, WorkflowMetadataError, collecting, stop_collecting
from .kinds import BuiltWorkflow, WorkflowBuildError, inspect_built, teardown

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
        """``file:line: message``, as compilers print it (``file: message`` for line 0)."""
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    @classmethod
    def unreadable(cls, exc: UnreadableEntryError) -> LoadProblem:
        """The problem of an entry that is not a readable regular file."""
        return cls(exc.file, 0, exc.reason)

    def to_dict(self) -> dict[str, Any]:
        """The problem as plain data (for events and JSON output)."""
        return asdict(self)


def is_workflow_file(path: Path) -> bool:
    """Whether ``path`` names a workflow file (``*.py``, not ``_*`` or ``.*``)."""
    return path.suffix == ".py" and not path.name.startswith(("_", "."))


def discover(path: Path) -> list[Path]:
    """The workflow files of a directory (sorted), or ``[path]`` for anything else.

    Every entry named like a workflow file is listed, whatever it is: reading
    it (`read_source`) decides whether it loads. Raises `WorkflowLoadError`
    (line 0) when the directory cannot be listed.
    """
    path = Path(path)
    if not path.is_dir():
        return [entry_path(path)]
    try:
        entries = list(path.iterdir())
    except OSError as exc:
        raise WorkflowLoadError(LoadProblem(
            str(entry_path(path)), 0, f"cannot list the directory: {os_reason(exc)}"
        )) from None
    return sorted(entry_path(p) for p in entries if is_workflow_file(p))


def read_source(file: str) -> bytes:
    """The bytes of workflow file ``file``: only a readable regular file has any.

    Raises `WorkflowLoadError` (line 0) for anything else, and
    `FileNotFoundError` when the entry is gone.
    """
    try:
        return read_entry(file)
    except UnreadableEntryError as exc:
        raise WorkflowLoadError(LoadProblem.unreadable(exc)) from None


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


def load_source(file: str, source: bytes, runtime: Runtime, *, capture_output: bool = True) -> list[BuiltWorkflow]:
    """Import ``source`` and build every workflow it declares, all or nothing.

    Raises `WorkflowLoadError`; on failure nothing the file built stays
    subscribed to the runtime's bus. What the file prints meanwhile is
    logged, not written to stdout (`engine.host.import_output`), unless
    ``capture_output`` is false (the check process catches it itself).
    """
    if not capture_output:
        return _load_source(file, source, runtime)
    with capturing(file):
        return _load_source(file, source, runtime)


def _load_source(file: str, source: bytes, runtime: Runtime) -> list[BuiltWorkflow]:
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
