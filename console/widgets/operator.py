"""How a panel sends an operator action to the engine.

`operate` is the one path: it refuses under ``--readonly`` (the app's
``readonly``), runs the command (a method of `console.commands.EngineCommands`,
named as ``EngineCommands.dlq_retry``, called on the app's ``commands``) on a
worker thread so the UI never waits
for the engine, and reports failure as a notification. Success needs no report: the
engine's events come back through the bridge and the panel shows the outcome.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.widget import Widget

from console.safe import visible


def is_readonly(widget: Widget) -> bool:
    return bool(getattr(widget.app, "readonly", False))


def refuse_if_readonly(widget: Widget, label: str) -> bool:
    """Tell the operator ``label`` is refused when read-only; True if refused."""
    if not is_readonly(widget):
        return False
    widget.app.notify(f"read-only: {label} refused", title="read-only", severity="warning", markup=False)
    return True


def operate(
    widget: Widget,
    label: str,
    command: Callable[..., Any],
    *args: Any,
    done: Callable[[Any], None] | None = None,
    failed: Callable[[BaseException], None] | None = None,
    changes: bool = True,
) -> bool:
    """Run ``app.commands``' ``command`` with ``args`` off the UI thread; False when refused.

    ``changes=False`` marks a read (allowed under ``--readonly``). ``done``
    (optional) is called on the UI thread with the command's result;
    ``failed`` (optional) with the error, after the operator is told.
    """
    if changes and refuse_if_readonly(widget, label):
        return False
    app = widget.app
    commands = getattr(app, "commands", None)
    if commands is None or getattr(app, "engine", None) is None:
        app.notify(f"{label}: no engine attached", severity="error", markup=False)
        return False
    # ``command`` is an `EngineCommands` method; the app's commands may be another
    # implementation of them (an attached console's `RemoteCommands`), so the
    # method is looked up on that object by its name.
    function: Callable[..., Any] = getattr(commands, command.__name__)

    def work() -> None:
        try:
            result = function(*args)
        except Exception as exc:  # noqa: BLE001 - any engine refusal is reported to the operator
            app.call_from_thread(
                app.notify,
                f"{label} failed: {type(exc).__name__}: {visible(exc, max_length=300)}",
                title="action failed",
                severity="error",
                markup=False,
            )
            if failed is not None:
                app.call_from_thread(failed, exc)
            return
        if done is None:
            return
        try:
            app.call_from_thread(done, result)
        except Exception as exc:  # noqa: BLE001 - a panel bug must show, not vanish with the worker
            app.call_from_thread(
                app.notify,
                f"{label}: the panel could not show the result: {type(exc).__name__}: {visible(exc, max_length=300)}",
                severity="error",
                markup=False,
            )

    widget.run_worker(work, thread=True, group="operator", name=label, exit_on_error=False)
    return True
