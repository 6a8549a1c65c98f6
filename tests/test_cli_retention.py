"""``--retain-events`` / ``--retain-days`` on every command that opens a store for writing.

``metrics --state-dir`` and ``dlq list|show`` only read: they never compact.
"""

from __future__ import annotations

import argparse
import importlib

import pytest

from console.cli import build_open_parser, retention_from_args
from engine.store import DEFAULT_RETENTION, Retention


def _parser(module: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    importlib.import_module(module).configure(parser)
    return parser


COMMANDS = {
    "console": (build_open_parser, ["flows"]),
    "run": (lambda: _parser("console.cli.run"), ["flows"]),
    "dlq list": (lambda: _parser("console.cli.dlq"), ["list"]),
    "dlq retry": (lambda: _parser("console.cli.dlq"), ["retry", "dl-1"]),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_retention_flags_set_the_stores_retention(command):
    make, argv = COMMANDS[command]
    args = make().parse_args([*argv, "--retain-events", "5000", "--retain-days", "1.5"])
    assert retention_from_args(args) == Retention(max_events=5000, max_age=1.5 * 86_400)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_without_the_flags_the_default_retention_applies(command):
    make, argv = COMMANDS[command]
    assert retention_from_args(make().parse_args(argv)) == DEFAULT_RETENTION


@pytest.mark.parametrize("flag, value", [
    ("--retain-events", "0"), ("--retain-events", "-3"), ("--retain-events", "many"),
    ("--retain-days", "0"), ("--retain-days", "nan"), ("--retain-days", "inf"),
])
def test_a_retention_that_is_not_a_positive_number_is_a_bad_argument(capsys, flag, value):
    from console.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["run", "flows", flag, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err
