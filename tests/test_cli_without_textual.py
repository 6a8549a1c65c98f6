"""The command line runs without textual: only opening the console imports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Each command runs in a fresh interpreter, so what it imported is all its own.
PROBE = textwrap.dedent("""
    import sys
    from console.cli import main
    code = main(sys.argv[1:])
    loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
    print("TEXTUAL", len(loaded), loaded[:3])
    print("EXIT", code)
""")


@pytest.fixture
def flows(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "hello.py").write_text(textwrap.dedent("""
        from engine import DAGWorkflow, workflow

        @workflow(name="hello")
        def build():
            dag = DAGWorkflow("hello")
            dag.add_task("say", lambda: "hi")
            return dag
    """))
    return folder


def probe(*args: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert "TEXTUAL" in done.stdout, done.stderr
    return done.stdout


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_command_on_a_workflow_directory_imports_no_textual(command, flows):
    out = probe(command, str(flows))
    assert "TEXTUAL 0 []" in out and "EXIT 0" in out


@pytest.mark.parametrize("command", [["dlq", "list"], ["metrics"]])
def test_a_command_on_a_state_directory_imports_no_textual(command, tmp_path, flows):
    state = tmp_path / "state"
    assert "EXIT 0" in probe("run", str(flows), "--state-dir", str(state))
    out = probe(*command, "--state-dir", str(state))
    assert "TEXTUAL 0 []" in out and "EXIT 0" in out


def test_the_console_itself_is_what_brings_textual_in():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, console.cli.tui; print('textual' in sys.modules)"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.stdout.strip() == "False", "tui imports textual only when the console opens"
