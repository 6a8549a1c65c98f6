"""View state of the traces panel, built from ``span.finished`` events.

Spans are grouped into runs (by the Event's ``run_id``, else by trace id).
For the picked run, `TraceView.waterfall` lays the spans out as a tree in
start order with their offset and width on one shared time axis, and marks
the critical path: from the root, the child that finished last, then the
children that finished before that one started, and so on (as Jaeger does).
Only the UI thread calls `apply`, so no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

RUN_LIMIT = 200
SPANS_PER_RUN = 2_000


@dataclass(slots=True)
class SpanView:
    """One finished span as the panel shows it."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start: float
    end: float
    status: str
    status_message: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def error(self) -> bool:
        return self.status == "error"


@dataclass(slots=True)
class TraceRun:
    """The spans of one run (or one trace when the spans carry no run id)."""

    key: str
    workflow: str | None
    spans: dict[str, SpanView] = field(default_factory=dict)
    dropped: int = 0

    @property
    def start(self) -> float:
        return min((s.start for s in self.spans.values()), default=0.0)

    @property
    def end(self) -> float:
        return max((s.end for s in self.spans.values()), default=0.0)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.spans.values() if s.error)

    @property
    def trace_ids(self) -> list[str]:
        return sorted({s.trace_id for s in self.spans.values()})


@dataclass(frozen=True, slots=True)
class WaterfallRow:
    """One row of the waterfall: a span, its depth, and its bar on the shared axis (0..1)."""

    span: SpanView
    depth: int
    offset: float
    width: float
    critical: bool


class TraceView:
    """Runs and their spans, folded from ``span.finished`` events."""

    def __init__(self, clock: Clock | None = None, *, run_limit: int = RUN_LIMIT) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.run_limit = run_limit
        self.runs: OrderedDict[str, TraceRun] = OrderedDict()
        self._run_of_trace: dict[str, str] = {}

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            if event.type == "span.finished":
                changed |= self._on_span(event)
        return changed

    def _on_span(self, event: Event) -> bool:
        data = event.data
        trace_id = str(data.get("trace_id") or event.trace_id or "")
        span_id = str(data.get("span_id") or event.span_id or "")
        if not trace_id or not span_id:
            return False
        start = _num(data.get("start", data.get("start_time")), event.ts)
        end = _num(data.get("end", data.get("end_time")), start + _num(data.get("duration"), 0.0))
        span = SpanView(
            trace_id=trace_id,
            span_id=span_id,
            parent_id=_opt_str(data.get("parent_id")),
            name=str(data.get("name", "?")),
            kind=str(data.get("kind", "internal")),
            start=start,
            end=end,
            status=str(data.get("status", "ok")),
            status_message=_opt_str(data.get("status_message")),
            attributes=data.get("attributes") if isinstance(data.get("attributes"), Mapping) else {},
            events=list(data.get("events") or ()),
            links=list(data.get("links") or ()),
        )
        run_id = event.run_id or _opt_str(data.get("run_id")) or _opt_str(span.attributes.get("run_id"))
        key = run_id or self._run_of_trace.get(trace_id) or trace_id
        run = self.runs.get(key)
        if run is None:
            workflow = event.workflow or _opt_str(data.get("workflow"))
            run = self.runs[key] = TraceRun(key, workflow)
            while len(self.runs) > self.run_limit:
                _, old = self.runs.popitem(last=False)
                for tid in old.trace_ids:
                    self._run_of_trace.pop(tid, None)
        self._run_of_trace.setdefault(trace_id, key)
        if run.workflow is None:
            run.workflow = event.workflow
        if len(run.spans) >= SPANS_PER_RUN and span_id not in run.spans:
            run.dropped += 1
            return True
        run.spans[span_id] = span
        return True

    # -- questions the panel asks -----------------------------------------

    def run_list(self) -> list[TraceRun]:
        """Runs, newest first."""
        return sorted(self.runs.values(), key=lambda r: (-r.start, r.key))

    def run_for_trace(self, trace_id: str) -> str | None:
        """The run key holding ``trace_id`` (to follow a link), if still kept."""
        return self._run_of_trace.get(trace_id)

    def waterfall(self, key: str) -> list[WaterfallRow]:
        """The run's spans as tree rows with bars on one shared axis."""
        run = self.runs.get(key)
        if run is None or not run.spans:
            return []
        spans = run.spans
        children: dict[str | None, list[SpanView]] = {}
        for span in spans.values():
            parent = span.parent_id if span.parent_id in spans else None
            children.setdefault(parent, []).append(span)
        for kids in children.values():
            kids.sort(key=lambda s: (s.start, s.name, s.span_id))
        critical = self.critical_path(key)
        t0, t1 = run.start, run.end
        total = (t1 - t0) or 1.0
        rows: list[WaterfallRow] = []
        stack: list[tuple[SpanView, int]] = [(s, 0) for s in reversed(children.get(None, []))]
        while stack:
            span, depth = stack.pop()
            rows.append(WaterfallRow(
                span, depth, (span.start - t0) / total, span.duration / total, span.span_id in critical
            ))
            stack.extend((c, depth + 1) for c in reversed(children.get(span.span_id, [])))
        return rows

    def critical_path(self, key: str) -> set[str]:
        """Span ids on the run's critical path."""
        run = self.runs.get(key)
        if run is None or not run.spans:
            return set()
        spans = run.spans
        children: dict[str, list[SpanView]] = {}
        roots: list[SpanView] = []
        for span in spans.values():
            if span.parent_id in spans:
                children.setdefault(span.parent_id, []).append(span)  # type: ignore[arg-type]
            else:
                roots.append(span)
        path: set[str] = set()
        # The longest root carries the run; other roots are separate traces.
        todo = [max(roots, key=lambda s: (s.duration, -s.start))]
        while todo:
            span = todo.pop()
            path.add(span.span_id)
            horizon = span.end
            for child in sorted(children.get(span.span_id, ()), key=lambda s: s.end, reverse=True):
                if child.end <= horizon + 1e-9:
                    todo.append(child)
                    horizon = child.start
        return path


def _num(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
