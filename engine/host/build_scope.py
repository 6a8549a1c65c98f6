"""The scope a workflow file's builder runs in: the engine's runtime, everywhere in it.

`building` makes ``runtime`` the current one (`engine.runtime.use_runtime`)
while a builder runs, and marks the context as a build. Threads do not
inherit context variables, so a thread a builder starts (a poller, a
``ThreadPoolExecutor`` worker, a ``Timer``) would see the process's default
runtime and publish where no engine listens. So while any build is under
way, `threading.Thread.start` is wrapped: a thread started from a build's
context runs in a copy of that context, and so do the threads it starts.
Threads started anywhere else are untouched (the wrapper only reads two
context variables).

A thread started while a file is imported (at module level) runs before
any builder, where no runtime is current: `importing` collects the line of
each such start, and the loader reports it as a misuse (``file:line``).

The wrapper is put on `threading.Thread` once, by the first build, and
stays; ``_install_lock`` guards that.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import threading
from typing import Any, Callable, Iterator

from ..runtime import Runtime, use_runtime

_building: contextvars.ContextVar[bool] = contextvars.ContextVar("flowconsole_building", default=False)
_importing: contextvars.ContextVar[tuple[str, list[int]] | None] = contextvars.ContextVar(
    "flowconsole_importing", default=None
)
_install_lock = threading.Lock()
_original_start: Callable[[threading.Thread], None] | None = None


def in_build() -> bool:
    """Whether this context is a workflow builder's (or a thread started from one)."""
    return _building.get()


@contextlib.contextmanager
def building(runtime: Runtime) -> Iterator[Runtime]:
    """Run a builder: ``runtime`` is current here and in every thread started from here."""
    _install()
    token = _building.set(True)
    try:
        with use_runtime(runtime):
            yield runtime
    finally:
        _building.reset(token)


@contextlib.contextmanager
def importing(file: str) -> Iterator[list[int]]:
    """Import ``file`` inside the block; the list gets the line of each thread it starts."""
    _install()
    lines: list[int] = []
    token = _importing.set((file, lines))
    try:
        yield lines
    finally:
        _importing.reset(token)


def _line_in(file: str) -> int:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == file:
            return frame.f_lineno
        frame = frame.f_back
    return 1


def _install() -> None:
    global _original_start
    with _install_lock:
        if _original_start is not None:
            return
        _original_start = threading.Thread.start
        threading.Thread.start = _start  # type: ignore[method-assign]


def _start(self: threading.Thread) -> None:
    watched = _importing.get()
    if watched is not None:
        watched[1].append(_line_in(watched[0]))
    if _building.get():
        context = contextvars.copy_context()
        run = self.run

        def run_in_build_context(*args: Any, **kwargs: Any) -> None:
            context.run(run, *args, **kwargs)

        self.run = run_in_build_context  # type: ignore[method-assign]
    assert _original_start is not None
    _original_start(self)
