"""The sidebar's list of workflows: name, kind, status, last run, load errors.

Each option shows the workflow's name (in the error colour when its file
failed to load) and a second line with kind, status and how long ago it
last ran. Highlighting one makes it the app's selected workflow; `describe`
gives the detail shown under the list (file, description, or the load
error's message and traceback).

An entry keeps its height while its status changes: its lines are laid
out for the widest status it has shown (a saga that was "compensated" once
keeps its age on a line of its own when it is "running" again), and the
widest age. A status too long to follow the kind goes on a line of its own.

The list redraws once a second while ages tick. An option whose prompt
changed but not its height repaints only its own lines; Textual's
`replace_option_prompt_at_index` would clear every option's rendering and
repaint the whole list. An option that grows or shrinks (a status that
moves its age to a line of its own) redraws the list, and lays out nothing,
as the list's size never depends on its content (`SteadyScrollView`).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widgets.option_list import Option

from ..safe import safe_text
from ..state import ago
from ..state.workflows import WorkflowInfo, WorkflowsState
from .steady_scroll import SteadyScrollView
from .table_keys import NavOptionList

_STATUS_CLASS = {
    "load error": "workflows--error",
    "running": "workflows--running",
    "failed": "workflows--failed",
    "completed": "workflows--completed",
    "cancelled": "workflows--cancelled",
    "compensated": "workflows--cancelled",
    "compensation failed": "workflows--failed",
}

# Until a widget is styled its component styles do not exist yet; render plain then.
_PLAIN = Style()
# " · 59s ago": an age is at most three characters under 100 days.
_WIDEST_AGE = len(" · 59s ago")


class WorkflowList(NavOptionList, SteadyScrollView):
    """Every workflow the engine has loaded (or failed to)."""

    COMPONENT_CLASSES = {
        "workflows--error", "workflows--running", "workflows--failed",
        "workflows--completed", "workflows--cancelled", "workflows--muted",
    }

    def __init__(self, state: WorkflowsState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self._names: list[str] = []
        self._prompts: list[Text] = []
        # Workflow name -> the widest status it has shown (in cells).
        self._widest_status: dict[str, int] = {}

    def sync(self) -> None:
        """Rebuild the options when the set changed, else refresh their text."""
        names = list(self.state.workflows)
        palette = self.palette()
        prompts = [self._prompt(self.state.workflows[name], palette) for name in names]
        if names != self._names:
            highlighted = self.highlighted_option.id if self.highlighted_option is not None else None
            self._names = names
            self.set_options(Option(prompt, id=name) for prompt, name in zip(prompts, names))
            if names:
                self.highlighted = names.index(highlighted) if highlighted in names else self._first_pick(names)
        else:
            for index, (prompt, shown) in enumerate(zip(prompts, self._prompts)):
                if prompt.plain != shown.plain or prompt.spans != shown.spans:
                    self._reprompt(index, prompt)
        self._prompts = prompts

    def on_resize(self) -> None:
        # Entries break their lines for the list's width (the first layout gives it one).
        self.sync()

    def _reprompt(self, index: int, prompt: Text) -> None:
        """Give option ``index`` its new prompt, repainting only its lines if it keeps its height."""
        # OptionList keeps each option's height and rendering in private
        # caches (tests/console/test_sidebar_repaint.py pins their use).
        height = self._heights.get(index)
        option = self.get_option_at_index(index)
        option._set_prompt(prompt)
        padding = self.get_component_styles("option-list--option").padding
        width = self.scrollable_content_region.width - self._get_left_gutter_width() - padding.width
        if height is None or self._rows(option, prompt, width) != height:
            self._clear_caches()
            return
        for key in [key for key in self._option_render_cache.keys() if key[0] is option]:
            self._option_render_cache.discard(key)
        self.repaint_lines(self._index_to_line[index], height)

    def _rows(self, option: Option, prompt: Text, width: int) -> int:
        """The rows ``prompt`` takes: one a line when each fits (the entries break their own lines), else as Textual wraps it."""
        lines = prompt.plain.split("\n")
        if all(cell_len(line) <= width for line in lines):
            return len(lines)
        return self._get_visual(option).get_height(self.styles, width)

    def _first_pick(self, names: list[str]) -> int:
        """The first DAG workflow: the console opens on the DAG view."""
        kinds = [self.state.workflows[name].kind for name in names]
        return kinds.index("dag") if "dag" in kinds else 0

    def palette(self) -> dict[str, Style]:
        """The entries' styles, by component class (read once a redraw: each read costs)."""
        return {klass: self.get_component_rich_style(klass, default=_PLAIN) for klass in self.COMPONENT_CLASSES}

    def _prompt(self, info: WorkflowInfo, palette: dict[str, Style]) -> Text:
        status = info.status
        # A state machine's status is its instance count, coloured by its last action's outcome.
        klass = _STATUS_CLASS.get(status) or _STATUS_CLASS.get(info.last_run_status or "", "workflows--muted")
        status_style = palette[klass]
        muted = palette["workflows--muted"]
        name_style = status_style if info.load_error is not None else "bold"
        text = safe_text(info.name, name_style, max_length=60)
        width = max(self.scrollable_content_region.width, 24)
        widest = max(self._widest_status.get(info.name, 0), len(status))
        self._widest_status[info.name] = widest
        text.append("\n  ")
        line = 2
        if info.kind != "?":
            kind = safe_text(info.kind, muted)
            text.append_text(kind)
            line += kind.cell_len
            if line + len(" · ") + widest <= width:
                text.append(" · ", style=muted)
                line += len(" · ")
            else:
                text.append("\n  ")
                line = 2
        text.append(status, style=status_style)
        line += widest
        since = self.state.last_run_ago(info)
        if since is not None:
            when = f" · {ago(since)} ago"
            # A long status keeps its age whole, on a line of its own.
            fits = line + max(len(when), _WIDEST_AGE) <= width
            text.append(when if fits else f"\n  {when[3:]}", style=muted)
        return text

    def describe(self, name: str | None) -> Text:
        """The detail of workflow ``name`` for the pane under the list."""
        info = self.state.workflows.get(name) if name is not None else None
        if info is None:
            return Text("")
        error_style = self.get_component_rich_style("workflows--error", default=_PLAIN)
        text = Text(end="")
        where = f"{info.file}:{info.line}" if info.line is not None else info.file
        if where:
            text.append_text(safe_text(where))
        if info.generation:
            text.append(f"  v{info.generation}")
        if info.description:
            text.append("\n")
            text.append_text(safe_text(info.description, multiline=True, max_length=1000))
        if info.tags:
            text.append("\ntags: ")
            text.append_text(safe_text(", ".join(info.tags)))
        error = info.load_error
        if error is not None:
            place = f"{error.file}:{error.line}" if error.line else error.file
            text.append("\n\nload failed: ", style=error_style)
            text.append_text(safe_text(place, error_style))
            text.append("\n")
            text.append_text(safe_text(error.message, error_style, multiline=True, max_length=2000))
            text.append(
                "\nlast good version still active" if error.last_good_active else "\nno version active"
            )
            if error.traceback:
                text.append("\n\n")
                text.append_text(safe_text(error.traceback, multiline=True, max_length=20_000))
        return text
