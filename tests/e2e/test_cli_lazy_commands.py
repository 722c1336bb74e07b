"""The root command imports a sub-command's module only when that sub-command runs."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lealta.cli.lazy import load_command
from lealta.cli.main import COMMANDS, app


def _first_paragraph(text: str | None) -> str:
    return inspect.cleandoc(text or "").split("\n\n")[0]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = load_command(name, COMMANDS[name])
    assert COMMANDS[name].summary == _first_paragraph(command.short_help or command.help)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_sub_command_prints_its_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"lealta {name} [OPTIONS]" in result.output


def test_the_root_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    # the help is a table: drop its borders and the line breaks of wrapped cells
    words = " ".join(result.output.replace("│", " ").split())
    for name, spec in COMMANDS.items():
        assert f" {name} {' '.join(spec.summary.split())}" in words


def _modules_loaded_by(args: list[str]) -> str:
    """The sub-command modules a fresh process has imported after running ``lealta args``."""
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from lealta.cli.main import COMMANDS, app\n"
        f"assert CliRunner().invoke(app, {args!r}).exit_code == 0\n"
        "print(sorted({c.module for c in COMMANDS.values()} & set(sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    return loaded.stdout.strip()


def test_the_root_help_imports_no_sub_command() -> None:
    assert _modules_loaded_by(["--help"]) == "[]"


def test_running_one_command_imports_only_its_module() -> None:
    assert _modules_loaded_by(["push", "vapid-keys"]) == "['lealta.cli.push']"


def test_a_mistyped_command_gets_a_suggestion_from_all_commands() -> None:
    result = CliRunner().invoke(app, ["audience"])
    assert result.exit_code == 2
    assert "No such command 'audience'" in result.output
    assert "'audiences'" in result.output
