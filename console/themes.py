"""The console's themes: TOML files in ``themes/``, validated, made Textual themes.

A theme file holds Textual's base colours and a ``[variables]`` table of the
app's own colour variables (the status colours and friends that the
``.tcss`` uses as ``$status-running`` etc.). Files are validated with
pydantic at load, so a typo in a colour or a missing status variable is a
clear error naming the file and the field, not a silently odd screen.
``--theme`` takes a shipped theme's name or the path of a theme file of
one's own, validated the same way (`resolve_theme`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"
DEFAULT_THEME = "flowconsole-dark"
REQUIRED_VARIABLES = (
    "status-pending",
    "status-running",
    "status-retrying",
    "status-completed",
    "status-failed",
    "status-skipped",
    "status-cancelled",
    "load-error",
    "edge",
    "edge-selected",
    "chip-selected",
    "muted",
    "header-background",
)


class ThemeFileError(ValueError):
    """A theme file could not be read or did not validate."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _check_colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"not a colour: {value!r}") from exc
    return value


class ThemeFile(BaseModel):
    """The contents of one theme file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    dark: bool
    primary: str
    secondary: str
    accent: str
    warning: str
    error: str
    success: str
    foreground: str
    background: str
    surface: str
    panel: str
    variables: dict[str, str]

    @field_validator(
        "primary", "secondary", "accent", "warning", "error", "success",
        "foreground", "background", "surface", "panel",
    )
    @classmethod
    def _colour(cls, value: str) -> str:
        return _check_colour(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [name for name in REQUIRED_VARIABLES if name not in value]
        if missing:
            raise ValueError(f"missing variables: {', '.join(missing)}")
        for name, colour in value.items():
            try:
                _check_colour(colour)
            except ValueError as exc:
                raise ValueError(f"variable {name}: {exc}") from exc
        return value

    def to_theme(self) -> Theme:
        return Theme(
            name=self.name,
            dark=self.dark,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            warning=self.warning,
            error=self.error,
            success=self.success,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            variables=dict(self.variables),
        )


def load_theme(path: Path) -> Theme:
    """The Textual theme a theme file describes; `ThemeFileError` if invalid."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeFileError(path, str(exc)) from exc
    try:
        return ThemeFile.model_validate(raw).to_theme()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()
        )
        raise ThemeFileError(path, problems) from exc


def load_themes(directory: Path = THEMES_DIR) -> dict[str, Theme]:
    """Every theme in ``directory``, by name, in file-name order."""
    themes: dict[str, Theme] = {}
    for path in sorted(directory.glob("*.toml")):
        theme = load_theme(path)
        themes[theme.name] = theme
    return themes


def resolve_theme(value: str | None, themes: dict[str, Theme]) -> str | None:
    """The name of the theme ``value`` asks for; None if it names none.

    ``value`` is a theme's name (None: the default) or the path of a theme
    file (ending in ``.toml`` or holding a path separator), which is loaded,
    validated (`ThemeFileError` if invalid) and added to ``themes``.
    """
    if value is None:
        return DEFAULT_THEME
    if value in themes:
        return value
    if value.endswith(".toml") or "/" in value or "\\" in value:
        theme = load_theme(Path(value).expanduser())
        themes[theme.name] = theme
        return theme.name
    return None
