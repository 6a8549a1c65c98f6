"""The distribution: the right packages, importable without the UI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import console
import engine

ROOT = Path(__file__).resolve().parents[1]


def test_engine_under_test_is_this_repositorys() -> None:
    assert Path(engine.__file__).resolve().parent == ROOT / "engine"


def test_console_under_test_is_this_repositorys() -> None:
    assert Path(console.__file__).resolve().parent == ROOT / "console"


def test_importing_engine_loads_no_ui_module() -> None:
    code = (
        "import sys, engine\n"
        "import engine.__init__\n"
        "for name in list(engine.__all__):\n"
        "    getattr(engine, name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'console'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_engine_sources_never_import_the_ui() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "engine").rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if line.lstrip().startswith(("import textual", "from textual", "import rich", "from rich",
                                     "import console", "from console"))
    ]
    assert offenders == []


def test_a_built_wheel_carries_the_themes_and_the_styles(tmp_path) -> None:
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("flowconsole-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # console.themes looks for the themes beside the console package.
    assert {"themes/flowconsole-dark.toml", "themes/flowconsole-light.toml", "console/app.tcss",
            "console/narrow.tcss", "flowconsole/__main__.py"} <= names
