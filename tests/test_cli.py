"""The flowconsole command: version, help, and one-line usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_version_prints_the_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "flowconsole 0.1.0"


def test_help_lists_the_options() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--state-dir", "--theme", "--readonly", "DIR"):
        assert option in result.stdout


def test_a_wrong_flag_is_one_line_and_exit_code_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--no-such-flag"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--no-such-flag" in err


def test_a_missing_directory_is_one_line_and_exit_code_2(capsys, tmp_path) -> None:
    assert main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or directory" in err


def test_a_file_instead_of_a_directory_is_refused(capsys, tmp_path) -> None:
    file = tmp_path / "wf.py"
    file.write_text("")
    assert main([str(file)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_no_directory_and_no_samples_is_a_usage_error(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "sample_workflows" in capsys.readouterr().err
