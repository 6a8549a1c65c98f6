"""The README's command table and the commands' --help say the same things."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from console.cli import SUBCOMMANDS, build_open_parser
from console.cli import run as cmd_run

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_section() -> str:
    start = README.index("## The command line")
    return README[start:README.index("A wrong flag or a missing path", start)]


def table_rows() -> list[str]:
    lines = command_section().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| command |"))
    rows = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_command_table_is_one_table_with_every_command() -> None:
    rows = table_rows()
    after = command_section().split("\n".join(rows), 1)[1]
    assert not re.search(r"^\|", after, re.M), "a second table follows the first"
    for name in SUBCOMMANDS:
        assert any(f"`flowconsole {name}" in row for row in rows), name
    assert any("`python -m flowconsole" in row for row in rows)


def _default_help(parser: argparse.ArgumentParser, option: str) -> str:
    action = next(a for a in parser._actions if option in a.option_strings)
    return action.help or ""


def test_run_help_and_the_readme_agree_on_the_state_directory_default() -> None:
    parser = argparse.ArgumentParser()
    cmd_run.configure(parser)
    assert parser.parse_args(["x"]).state_dir is None
    assert "(default: in memory)" in _default_help(parser, "--state-dir")
    assert "`run` keeps its state in memory unless given `--state-dir D`" in README


def test_the_console_help_and_the_readme_agree_on_the_state_directory_default() -> None:
    parser = build_open_parser()
    assert parser.parse_args([]).state_dir == Path(".flowconsole")
    assert "(default: ./.flowconsole)" in _default_help(parser, "--state-dir")
    assert "the console, `dlq` and `metrics` use `./.flowconsole`" in README
