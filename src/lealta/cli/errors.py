"""One place that turns errors into messages and exit codes for the command line."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from lealta.errors import InvalidInput, LealtaError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_INVALID = 2
EXIT_INTERNAL = 1


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command``; a Lealta error becomes one line on stderr and exit code 2.

    Any other exception is a bug: a one-line message, exit code 1, and the traceback only
    with ``LEALTA_DEBUG=1``.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LealtaError as exc:
            where = f" (line {exc.line})" if isinstance(exc, InvalidInput) and exc.line else ""
            typer.secho(f"error: {exc}{where}", err=True, fg="red")
            raise typer.Exit(EXIT_INVALID) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("LEALTA_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            typer.secho(
                f"internal error: {type(exc).__name__}: {first}"
                "\n(this is a bug; run again with LEALTA_DEBUG=1 for details and report it)",
                err=True,
                fg="red",
            )
            sys.stderr.flush()
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper
