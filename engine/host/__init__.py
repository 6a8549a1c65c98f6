"""The host: the `Engine` that turns workflow files into runs and events.

Holds the `Engine` (`engine`), loading workflow files (`loader`,
`loading`, `workflow_file`, `kinds`), the registry of loaded workflows
(`registry`), starting runs (`runs`), hot reload (`watcher`) and triggers
(`triggers`, `schedule`).
May import: every other room of the engine; nothing imports the host.
"""

from .workflow_file import (
    BuildContext,
    PoolJob,
    WorkflowMeta,
    WorkflowMetadataError,
    run_inputs,
    workflow,
)
from .kinds import WorkflowBuildError
from .loader import LoadProblem, WorkflowLoadError
from .registry import UnknownWorkflowError, WorkflowNameConflict
from .runs import RunNotStartableError
from .engine import Engine
from .errors import EngineStoppedError, UnknownRunError, WorkflowKindError

__all__ = [
    "BuildContext",
    "Engine",
    "EngineStoppedError",
    "LoadProblem",
    "PoolJob",
    "RunNotStartableError",
    "UnknownRunError",
    "UnknownWorkflowError",
    "WorkflowBuildError",
    "WorkflowKindError",
    "WorkflowLoadError",
    "WorkflowMeta",
    "WorkflowMetadataError",
    "WorkflowNameConflict",
    "run_inputs",
    "workflow",
]
