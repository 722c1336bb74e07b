"""Running ``lealta`` on its own SQLite store in a folder: inside the test process by default,
or as a real ``python -m lealta`` process where the process itself is under test.

Inside the process the command goes through the same Typer app, settings and bootstrap as the
real program (only the interpreter's start-up and imports, about a CPU second a command, are
saved); the environment is the one a process would get: no ``LEALTA_*`` variable but the store
and an absent config file, the folder as working directory, the settings read afresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

from typer.testing import CliRunner

from lealta.cli.main import app
from lealta.config import get_settings


def store_env(folder: Path, database_url: str | None = None) -> dict[str, str]:
    """The variables that point ``lealta`` at ``database_url`` (``folder/lealta.db`` if not
    given) and at no config file."""
    return {
        "LEALTA_DATABASE_URL": database_url or f"sqlite:///{folder / 'lealta.db'}",
        "LEALTA_CONFIG_FILE": str(folder / "none.toml"),
    }


def lealta(
    folder: Path,
    *args: str,
    code: int = 0,
    process: bool = False,
    database_url: str | None = None,
) -> str:
    """``lealta ARGS`` in ``folder`` on its store (or ``database_url``); the exit code must be
    ``code``; returns stdout + stderr."""
    out, err = run(folder, *args, code=code, process=process, database_url=database_url)
    return out + err


def run(
    folder: Path,
    *args: str,
    code: int = 0,
    process: bool = False,
    database_url: str | None = None,
) -> tuple[str, str]:
    """As :func:`lealta`, with stdout and stderr apart."""
    env_vars = store_env(folder, database_url)
    if process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        done = subprocess.run(
            [sys.executable, "-m", "lealta", *args],
            env=env | env_vars,
            cwd=folder,
            capture_output=True,
            text=True,
        )
        assert done.returncode == code, done.stderr
        return done.stdout, done.stderr
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LEALTA_")}
    get_settings.cache_clear()
    try:
        with chdir(folder):
            result = CliRunner().invoke(app, list(args), env=unset | env_vars)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == code, result.stderr or repr(result.exception)
    return result.stdout, result.stderr
