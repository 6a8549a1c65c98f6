"""``flowconsole validate DIR``: check every workflow file without running it.

Each file is loaded in a child process (as the engine does before loading a
file), so a file that hangs or exits is reported, not obeyed. Every problem
is printed as ``file:line: message``; names declared by two files are
problems too. Exit code 0 when every file is sound, 1 otherwise, 2 for a
wrong command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.host.load_check import check_files_in_child
from engine.host.loader import DEFAULT_CHECK_TIMEOUT, LoadProblem, WorkflowLoadError, discover, read_source
from engine.visible_text import visible


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowconsole validate``."""
    from console.cli import positive_seconds

    parser.add_argument("directory", metavar="DIR", help="directory of workflow files (or one file)")
    parser.add_argument(
        "--timeout", type=positive_seconds, default=DEFAULT_CHECK_TIMEOUT, metavar="S",
        help=f"seconds each file may take to load (default {DEFAULT_CHECK_TIMEOUT:g})",
    )


def display_path(file: str) -> str:
    """``file`` relative to the working directory when it is under it."""
    path = Path(file)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def one_line(problem: LoadProblem) -> str:
    """The problem as ``file:line: message`` on one line, control characters made visible."""
    message = " ".join(problem.message.split())
    where = f"{display_path(problem.file)}:{problem.line}" if problem.line else display_path(problem.file)
    return visible(f"{where}: {message}")


def validate(root: Path, timeout: float) -> tuple[list[LoadProblem], int, int]:
    """(problems, files checked, workflows found) for the files under ``root``."""
    try:
        files = discover(root)
    except WorkflowLoadError as exc:
        return [exc.problem], 0, 0
    problems: list[LoadProblem] = []
    sources: dict[str, bytes] = {}
    for file in map(str, files):
        try:
            sources[file] = read_source(file)
        except WorkflowLoadError as exc:
            problems.append(exc.problem)
        except FileNotFoundError:
            problems.append(LoadProblem(file, 0, "deleted while it was being checked"))
    checked = check_files_in_child(sources, timeout)
    owners: dict[str, str] = {}
    workflows = 0
    for file in sources:
        found, declared = checked[file]
        problems.extend(found)
        for wf in declared:
            workflows += 1
            if wf["name"] in owners:
                problems.append(LoadProblem(
                    file, wf["line"],
                    f"workflow name {wf['name']!r} is already declared in {display_path(owners[wf['name']])}",
                    workflow=wf["name"], field="name",
                ))
            else:
                owners[wf["name"]] = file
    return problems, len(files), workflows


def main(args: argparse.Namespace) -> int:
    """Run ``flowconsole validate``; returns the exit code."""
    from console.cli import UsageError

    root = Path(args.directory)
    if not root.exists():
        raise UsageError(f"{args.directory}: no such file or directory")
    problems, files, workflows = validate(root, args.timeout)
    for problem in problems:
        sys.stdout.write(one_line(problem) + "\n")
    if not files and not problems:
        sys.stdout.write(f"{visible(args.directory)}: no workflow files (*.py not starting with '_' or '.')\n")
        return 1
    if problems:
        sys.stderr.write(f"{len(problems)} problem(s) in {files} file(s)\n")
        return 1
    sys.stdout.write(f"{files} file(s), {workflows} workflow(s): ok\n")
    return 0
