"""Panels name the engine command they run as a method of `EngineCommands`, never as a string."""

from __future__ import annotations

import ast
from pathlib import Path

from console.commands import EngineCommands

WIDGETS = Path(__file__).resolve().parents[2] / "console" / "widgets"


def calls_of(name: str):
    for path in sorted(WIDGETS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield path.name, node


def test_no_panel_passes_a_command_name_as_a_string():
    strings = [
        (file, node.lineno) for file, node in calls_of("operate")
        if len(node.args) > 2 and isinstance(node.args[2], ast.Constant)
    ]
    assert list(calls_of("operate")) and strings == []


def test_every_command_a_panel_names_is_a_method_of_engine_commands():
    named = {
        node.attr
        for path in WIDGETS.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "EngineCommands"
    }
    assert named and all(callable(getattr(EngineCommands, name, None)) for name in named), named
