"""``--theme`` takes the path of a theme file, validated as the shipped themes are."""

from __future__ import annotations

from pathlib import Path

from console.app import FlowConsoleApp
from console.cli import main
from console.themes import THEMES_DIR

ROOT = Path(__file__).resolve().parents[2]


def own_theme(tmp_path: Path, **changes: str) -> Path:
    text = (THEMES_DIR / "flowconsole-light.toml").read_text().replace('"flowconsole-light"', '"night-shift"')
    for old, new in changes.items():
        text = text.replace(old, new)
    path = tmp_path / "night-shift.toml"
    path.write_text(text)
    return path


def test_a_theme_file_given_by_path_becomes_the_apps_theme(tmp_path) -> None:
    app = FlowConsoleApp(theme=str(own_theme(tmp_path)))
    assert app.theme == "night-shift"
    assert "night-shift" in app.flow_themes


def test_an_invalid_theme_file_is_one_line_naming_the_file_and_field(tmp_path, capsys) -> None:
    text = (THEMES_DIR / "flowconsole-light.toml").read_text()
    primary = next(line for line in text.splitlines() if line.startswith("primary"))
    path = own_theme(tmp_path, **{primary: 'primary = "not-a-colour"'})
    assert main(["--theme", str(path), str(ROOT / "sample_workflows")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(path) in err and "primary" in err and "not a colour" in err


def test_a_missing_theme_file_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["--theme", str(tmp_path / "nowhere.toml"), str(ROOT / "sample_workflows")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere.toml" in err


def test_an_unknown_theme_name_is_still_refused_with_the_known_ones(capsys) -> None:
    assert main(["--theme", "neon", str(ROOT / "sample_workflows")]) == 2
    assert "unknown theme 'neon' (known: flowconsole-dark, flowconsole-light)" in capsys.readouterr().err
