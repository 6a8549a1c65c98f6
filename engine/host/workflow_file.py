"""The workflow-file format: ``@workflow`` metadata on builder functions.

A workflow file is a Python module that imports from `engine` and decorates
builder functions::

    @workflow(name="etl", description="...", tags=["data"], trigger={"every": "30s"})
    def build(ctx):
        dag = DAGWorkflow("etl", retry=...)
        ...
        return dag

The decorator validates the metadata with pydantic at once, so a mistake is
reported with the file and line of the decorated function, the workflow name
and the field. It records a `Declaration` in the collector the loader
installs (a ContextVar, so concurrent loads on different threads never mix
their declarations) and returns the function unchanged.

A builder takes no argument or one: a `BuildContext` with the validated
metadata, the runtime, the retry policy built from ``retry=`` and the
breakers named in ``breakers=``.
"""

from __future__ import annotations

import contextvars
import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import FlowError
from ..resilience.retry import RetryPolicy

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
MIN_INTERVAL = 0.05
# Longer than any sensible schedule, short enough that due times stay exact floats.
MAX_INTERVAL = 366 * 86400.0


class WorkflowMetadataError(FlowError, ValueError):
    """A ``@workflow`` declaration has metadata that does not validate."""

    def __init__(self, message: str, *, file: str, line: int, workflow: str | None, field: str | None) -> None:
        where = f"workflow {workflow!r}" if workflow else "@workflow"
        at = f" field {field!r}" if field else ""
        super().__init__(f"{where}{at}: {message}")
        self.file = file
        self.line = line
        self.workflow = workflow
        self.field = field
        self.reason = message


def parse_duration(value: Any) -> float:
    """Seconds from ``"250ms"``, ``"5s"``, ``"2m"``, ``"1h"`` or a number."""
    if isinstance(value, bool):
        raise ValueError(f"a duration must be a number or a string like '5s', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"a duration must be a number or a string like '5s', '250ms', '2m', got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"interval {value!r} is not a finite number of seconds")
    if seconds > MAX_INTERVAL:
        raise ValueError(f"interval {value!r} is longer than the maximum of {MAX_INTERVAL:g}s (366 days)")
    if seconds < MIN_INTERVAL:
        raise ValueError(f"interval {value!r} is shorter than the minimum of {MIN_INTERVAL}s")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EveryTrigger(_Strict):
    """Start a run on an interval: ``{"every": "5s"}``."""

    every: float

    @field_validator("every", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return parse_duration(value)


class OnTrigger(_Strict):
    """Start a run for every bus event matching a pattern: ``{"on": "order.*"}``."""

    on: str

    @field_validator("on")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if not value or value == "*" or "*" in value[:-1]:
            raise ValueError(
                f"pattern {value!r} must be an event type or a prefix ending in '*' (not '*' alone)"
            )
        return value


class RetrySpec(_Strict):
    """The default retry policy of a workflow's units of work."""

    max_attempts: int = Field(3, ge=1)
    base_delay: float = Field(0.1, ge=0)
    multiplier: float = Field(2.0, ge=1)
    max_delay: float = Field(30.0, ge=0)
    jitter: Literal["full", "equal", "none"] = "full"

    def policy(self) -> RetryPolicy:
        """The `RetryPolicy` this spec describes."""
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.base_delay,
            multiplier=self.multiplier,
            max_delay=max(self.max_delay, self.base_delay),
            jitter=self.jitter,
        )


class BreakerSpec(BaseModel):
    """A circuit breaker the workflow uses: its name and its configuration."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)

    def config(self) -> dict[str, Any]:
        """The keyword arguments for ``runtime.breakers.get_or_create``."""
        return dict(self.model_extra or {})


class WorkflowMeta(_Strict):
    """Validated ``@workflow`` metadata."""

    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    trigger: Union[Literal["manual"], EveryTrigger, OnTrigger] = "manual"
    max_parallel: int | None = Field(None, ge=1, le=1024)
    failure_policy: Literal["fail_fast", "continue"] | None = None
    retry: RetrySpec | None = None
    breakers: list[BreakerSpec] = Field(default_factory=list)
    start_event: str | None = None

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger(cls, value: Any) -> Any:
        if value == "manual" or isinstance(value, (EveryTrigger, OnTrigger)):
            return value
        if isinstance(value, dict) and len(value) == 1 and "every" in value:
            return EveryTrigger(**value)
        if isinstance(value, dict) and len(value) == 1 and "on" in value:
            return OnTrigger(**value)
        raise ValueError(f"a trigger is 'manual', {{'every': '5s'}} or {{'on': 'event.pattern'}}, got {value!r}")

    @field_validator("breakers", mode="before")
    @classmethod
    def _breakers(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"breakers is a list of names or of dicts with a 'name', got {value!r}")
        return [BreakerSpec(name=b) if isinstance(b, str) else b for b in value]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # fullmatch: ``$`` alone would accept a trailing newline.
        if not _NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a workflow name: use letters, digits, '_', '-', '.', starting with a letter"
            )
        return value

    @property
    def interval(self) -> float | None:
        """Seconds between scheduled runs, or None."""
        return self.trigger.every if isinstance(self.trigger, EveryTrigger) else None

    @property
    def event_pattern(self) -> str | None:
        """The bus pattern that starts runs, or None."""
        return self.trigger.on if isinstance(self.trigger, OnTrigger) else None

    def trigger_json(self) -> Any:
        """The trigger as plain data."""
        return self.trigger if isinstance(self.trigger, str) else self.trigger.model_dump()

    def breaker_specs(self) -> list[BreakerSpec]:
        """Every breaker the workflow declares."""
        return list(self.breakers)


@dataclass(frozen=True, slots=True)
class Declaration:
    """One ``@workflow`` builder found in a file."""

    meta: WorkflowMeta
    builder: Callable[..., Any]
    file: str
    line: int


@dataclass(slots=True)
class BuildContext:
    """What a builder may use: metadata, runtime, retry policy, breakers."""

    meta: WorkflowMeta
    runtime: Any
    retry: RetryPolicy | None
    breakers: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The workflow's name."""
        return self.meta.name

    def breaker(self, name: str) -> Any:
        """The runtime's breaker ``name`` (declared in ``breakers=`` or not)."""
        found = self.breakers.get(name)
        return found if found is not None else self.runtime.breakers.get_or_create(name)


_inputs: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "flowconsole_run_inputs", default=None
)


def run_inputs() -> dict[str, Any]:
    """The inputs of the run the calling code belongs to (``{}`` when none).

    ``Engine.start_run(name, inputs=...)`` sets them; a run started by an
    ``on`` trigger gets ``{"event": <the event as a dict>}``. Tasks, steps
    and jobs read them from here, whatever their kind.
    """
    found = _inputs.get()
    return dict(found) if found else {}


def set_run_inputs(inputs: dict[str, Any] | None) -> contextvars.Token:
    """Make ``inputs`` the current run's inputs (the engine's side)."""
    return _inputs.set(dict(inputs) if inputs else None)


def reset_run_inputs(token: contextvars.Token) -> None:
    """Undo `set_run_inputs`."""
    _inputs.reset(token)


_collector: contextvars.ContextVar[list[Declaration] | None] = contextvars.ContextVar(
    "flowconsole_workflow_collector", default=None
)


def collecting() -> tuple[list[Declaration], contextvars.Token]:
    """Start collecting declarations in this context (the loader's side)."""
    found: list[Declaration] = []
    return found, _collector.set(found)


def stop_collecting(token: contextvars.Token) -> None:
    """Stop the collection `collecting` started."""
    _collector.reset(token)


def _where(func: Callable[..., Any]) -> tuple[str, int]:
    code = getattr(func, "__code__", None)
    if code is None:
        return "<unknown>", 0
    return code.co_filename, code.co_firstlineno


def _check_builder(func: Callable[..., Any], file: str, line: int, name: str) -> None:
    if not callable(func):
        raise WorkflowMetadataError(
            f"@workflow must decorate a builder function, got {func!r}",
            file=file, line=line, workflow=name, field=None,
        )
    params = [
        p for p in inspect.signature(func).parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) > 1:
        raise WorkflowMetadataError(
            f"builder {func.__name__}() must take no argument or one (the build context), "
            f"it requires {len(params)}",
            file=file, line=line, workflow=name, field=None,
        )


def workflow(name: str | None = None, **metadata: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the decorated function as the builder of a workflow.

    Metadata: ``name`` (default: the function's name), ``description``,
    ``tags``, ``trigger`` (``"manual"``, ``{"every": "5s"}`` or ``{"on":
    "order.*"}``), ``max_parallel``, ``failure_policy`` (``"fail_fast"`` or
    ``"continue"``), ``retry`` (a dict of `RetrySpec` fields), ``breakers``
    (names, or dicts with ``name`` and breaker settings) and
    ``start_event`` (the event ``start_run`` emits for event-driven
    workflows and choreographies). Raises `WorkflowMetadataError` naming
    the file, line, workflow and field.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        file, line = _where(func)
        wf_name = name if name is not None else getattr(func, "__name__", None)
        try:
            meta = WorkflowMeta(name=wf_name, **metadata)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = [str(part) for part in first["loc"]]
            message = first["msg"].removeprefix("Value error, ")
            if "input" in first and loc and "got " not in message:
                message += f" (got {first['input']!r})"
            raise WorkflowMetadataError(
                message,
                file=file, line=line, workflow=wf_name if isinstance(wf_name, str) else None,
                field=".".join(loc) or None,
            ) from None
        _check_builder(func, file, line, meta.name)
        found = _collector.get()
        if found is not None:
            found.append(Declaration(meta, func, file, line))
        func.__flowconsole_workflow__ = meta
        return func

    if callable(name) and not metadata:
        func, name = name, None
        return decorate(func)
    return decorate


@dataclass(slots=True)
class PoolJob:
    """A batch of prioritized jobs for a `WorkerPool`: the ``pool`` kind.

    ``submit(func, priority=0, *args, **kwargs)`` queues a job as the basic API's
    ``WorkerPool.submit`` does (a lower number runs first); a run of the
    workflow starts a pool of ``num_workers`` on the engine's runtime,
    submits every job, waits for them and shuts the pool down.
    """

    name: str | None = None
    num_workers: int = 4
    jobs: list[tuple[int, Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def submit(self, func: Callable[..., Any], priority: int = 0, *args: Any, **kwargs: Any) -> None:
        """Queue ``func(*args, **kwargs)`` at ``priority``."""
        if not callable(func):
            raise TypeError(f"pool job {func!r} is not callable")
        self.jobs.append((priority, func, args, kwargs))

    def describe(self) -> dict[str, Any]:
        """The job list as plain data (the workflow spec)."""
        return {
            "workers": self.num_workers,
            "jobs": [
                {"name": getattr(func, "__name__", repr(func)), "priority": priority}
                for priority, func, _, _ in self.jobs
            ],
        }
