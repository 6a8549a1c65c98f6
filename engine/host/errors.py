"""The errors the `Engine` raises about itself, its workflows' kinds and its runs.

`UnknownWorkflowError` and `WorkflowNameConflict` live beside the registry
that raises them (`engine.host.registry`), `RunNotStartableError` beside the
launcher (`engine.host.runs`).
"""

from __future__ import annotations

from ..errors import FlowError


class EngineStoppedError(FlowError, RuntimeError):
    """The engine is stopped, so no run of any workflow can start."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the engine is stopped: workflow {name!r} cannot start a run")
        self.name = name


class WorkflowKindError(FlowError, TypeError):
    """A workflow is loaded but is not of the kind the operation needs."""

    def __init__(self, name: str, kind: str, wanted: str, of_kind: list[str]) -> None:
        super().__init__(
            f"workflow {name!r} is a {kind}, not a {wanted}; {wanted} workflows: {', '.join(of_kind) or 'none'}"
        )
        self.name = name
        self.kind = kind
        self.wanted = wanted
        self.of_kind = of_kind


class UnknownRunError(FlowError, KeyError):
    """No run with that id was started by this engine, or it is too old to be kept."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {run_id!r} started by this engine (or it is too old)")
        self.run_id = run_id

    def __str__(self) -> str:
        return str(self.args[0])
