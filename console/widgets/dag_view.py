"""The DAG view: the selected workflow's graph, its runs, and a task's detail.

Shows the workflow selected in the sidebar (``app.selected_workflow``): its
latest run, or an earlier one picked with ``[`` and ``]``, or, before any
run, its spec with every task pending. The detail pane shows the selected
task's status, attempts, duration, result preview and error with traceback.
Actions (refused under ``--readonly``): rerun from the selected task, cancel
the run; running the workflow is the app's ``r``.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..safe import safe_text
from ..state import ago, duration
from ..state.dag import DagState, RunView
from .dag_canvas import DagCanvas
from .static_text import show_text

_RUN_STATUS_CLASS = {
    "running": "dag--running",
    "completed": "dag--completed",
    "failed": "dag--failed",
    "cancelled": "dag--cancelled",
}

# Until a widget is styled its component styles do not exist yet; render plain then.
_PLAIN = Style()


class DagView(Vertical):
    """Title line, canvas, and under it the selected task's detail."""

    BINDINGS = [
        Binding("f", "rerun_from", "Rerun from task"),
        Binding("x", "cancel_run", "Cancel run"),
        Binding("left_square_bracket", "older_run", "Older run", key_display="["),
        Binding("right_square_bracket", "newer_run", "Newer run", key_display="]"),
    ]

    CHANGING_ACTIONS = {"rerun_from", "cancel_run"}

    def __init__(self, state: DagState) -> None:
        super().__init__(id="view-dag")
        self.state = state
        self.workflow: str | None = None
        self.pinned_run: str | None = None
        # What the title and detail last showed (text and styles), so a flood
        # of events that changes neither costs no re-render.
        self._title_key: tuple = ()
        self._detail_key: tuple = ()

    def compose(self) -> ComposeResult:
        yield Static(id="dag-title")
        yield DagCanvas(id="dag-canvas")
        with VerticalScroll(id="dag-detail-scroll"):
            yield Static(id="dag-detail")

    def on_mount(self) -> None:
        self.watch(self.app, "selected_workflow", self._on_workflow, init=True)

    @property
    def canvas(self) -> DagCanvas:
        return self.query_one(DagCanvas)

    def focus_main(self) -> None:
        self.canvas.focus()

    def _on_workflow(self, workflow: str | None) -> None:
        if workflow != self.workflow:
            self.workflow = workflow
            self.pinned_run = None
            self.sync()

    # -- state ------------------------------------------------------------

    @property
    def run(self) -> RunView | None:
        if self.workflow is None:
            return None
        if self.pinned_run is not None:
            run = self.state.runs.get(self.workflow, {}).get(self.pinned_run)
            if run is not None:
                return run
            self.pinned_run = None
        return self.state.latest_run(self.workflow)

    def sync(self) -> None:
        """Redraw from the state (the app calls this when the state changed)."""
        if not self.is_mounted:
            return
        workflow = self.workflow
        run = self.run
        if workflow is None:
            self.canvas.show({}, None, "No workflow selected: pick one in the sidebar.")
        elif not self.state.is_dag(workflow):
            self.canvas.show({}, None, f"{workflow} is not a DAG workflow (see the other views).")
        else:
            message = "" if run is not None else "No runs yet."
            self.canvas.show(self.state.graph(workflow, run), run, message)
        self._show_title(workflow, run)
        self._show_detail()

    def refresh_clock(self) -> None:
        """Refresh text that depends on the time (the run's age)."""
        if self.is_mounted:
            self._show_title(self.workflow, self.run)

    def _show_title(self, workflow: str | None, run: RunView | None) -> None:
        title = self._title(workflow, run)
        key = (title.plain, tuple(title.spans))
        if key != self._title_key:
            self._title_key = key
            show_text(self.query_one("#dag-title", Static), title)

    def _title(self, workflow: str | None, run: RunView | None) -> Text:
        title = Text("DAG", style="bold", end="")
        if workflow is None:
            return title
        title.append("  ")
        title.append_text(safe_text(workflow, "bold"))
        if run is None:
            if self.state.is_dag(workflow):
                hint = "  press r to run it" if not getattr(self.app, "readonly", False) else ""
                title.append(f"  no runs yet{hint}")
            return title
        runs = self.state.runs_of(workflow)
        position = next((i for i, r in enumerate(runs) if r.run_id == run.run_id), 0) + 1
        title.append("  run ")
        title.append_text(safe_text(run.run_id))
        title.append(f" ({position}/{len(runs)})  ")
        status_class = _RUN_STATUS_CLASS.get(run.status, "dag--pending")
        title.append(run.status, style=self.canvas.get_component_rich_style(status_class, default=_PLAIN))
        if run.started_ts is not None:
            clock = self.state.clock
            title.append(f"  started {ago(clock.time() - run.started_ts)} ago")
        return title

    def _show_detail(self) -> None:
        detail = self.query_one("#dag-detail", Static)
        canvas = self.canvas
        task = canvas.selected
        if task is None or task not in canvas.layout.position:
            self._detail_key = ()
            show_text(detail, "")
            return
        run = canvas.run
        view = run.states.get(task) if run is not None else None
        status = view.status if view is not None else "pending"
        text = Text(end="")
        text.append("task      ", style="bold")
        text.append_text(safe_text(task))
        text.append("\nstatus    ", style="bold")
        text.append(status, style=canvas.get_component_rich_style(f"dag--{status}", default=_PLAIN))
        if view is not None and view.note:
            text.append(f" ({view.note})")
        deps = canvas.graph.get(task, [])
        text.append("\nneeds     ", style="bold")
        text.append_text(safe_text(", ".join(deps) if deps else "-"))
        if view is not None:
            text.append(f"\nattempts  {view.attempts}", style="")
            text.append(f"\nduration  {duration(view.duration)}")
            if view.result_preview is not None:
                text.append("\nresult    ", style="bold")
                text.append_text(safe_text(view.result_preview, max_length=2000))
            if view.error is not None or view.error_type is not None:
                text.append("\nerror     ", style="bold")
                error_style = canvas.get_component_rich_style("dag--failed", default=_PLAIN)
                text.append_text(safe_text(f"{view.error_type or 'Error'}: {view.error or ''}", error_style))
            if view.traceback:
                text.append("\n\n")
                text.append_text(safe_text(view.traceback, multiline=True, max_length=20_000))
        key = (text.plain, tuple(text.spans))
        if key != self._detail_key:
            self._detail_key = key
            show_text(detail, text)

    def on_dag_canvas_node_selected(self, message: DagCanvas.NodeSelected) -> None:
        message.stop()
        self._show_detail()

    # -- actions ----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.CHANGING_ACTIONS and getattr(self.app, "readonly", False):
            return False
        return True

    def action_rerun_from(self) -> None:
        run = self.run
        task = self.canvas.selected
        if self.workflow is None or run is None or task is None:
            self.notify("Pick a run and a task to rerun from.", severity="warning")
            return
        self.app.perform(
            f"rerun {self.workflow} from {task}",
            self.app.commands.rerun_from,
            self.workflow,
            run.run_id,
            task,
        )

    def action_cancel_run(self) -> None:
        run = self.run
        if run is None or run.status != "running":
            self.notify("No running run to cancel.", severity="warning")
            return
        self.app.perform(f"cancel run {run.run_id}", self.app.commands.cancel_run, run.run_id)

    def _step_run(self, step: int) -> None:
        if self.workflow is None:
            return
        runs = self.state.runs_of(self.workflow)
        current = self.run
        if not runs or current is None:
            return
        index = next(i for i, r in enumerate(runs) if r.run_id == current.run_id) + step
        index = max(0, min(len(runs) - 1, index))
        # The newest run is followed live rather than pinned.
        self.pinned_run = None if index == len(runs) - 1 else runs[index].run_id
        self.sync()

    def action_older_run(self) -> None:
        self._step_run(-1)

    def action_newer_run(self) -> None:
        self._step_run(1)
