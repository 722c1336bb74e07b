"""``lealta users``: the people who sign in to the web console (separate from API keys)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.storage.unit_of_work import UnitOfWork

users_app = typer.Typer(
    help="Console users: admins manage users, keys and erasure; marketers edit contacts, "
    "segments and workflows; viewers read."
)


def _unit_of_work() -> UnitOfWork:
    from lealta.config import get_settings
    from lealta.storage.engine import make_engine
    from lealta.storage.migrate import upgrade
    from lealta.storage.unit_of_work import UnitOfWork

    url = get_settings().database_url
    upgrade(url)  # users need the schema; creating it is harmless when it exists
    return UnitOfWork(make_engine(url))


def _read_password() -> str:
    """The password from a prompt on a terminal (asked twice), else the first line of stdin."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("create")
@friendly
def create_command(
    email: str = typer.Argument(..., help="The e-mail address the user signs in with."),
    role: str = typer.Option(
        "marketer", "--role", help="admin, marketer or viewer (see 'lealta users --help')."
    ),
) -> None:
    """Create a console user. The password is read from standard input (a hidden prompt on a
    terminal; at least 10 characters); the user's id is printed last."""
    from lealta.users.service import create_user

    password = _read_password()
    uow = _unit_of_work()
    with uow.transaction() as session:
        user = create_user(
            session, email=email, role=role, password=password, now=dt.datetime.now(dt.UTC)
        )
        typer.echo(f"created {user.role} {user.email}; they sign in at the console's /", err=True)
        typer.echo(user.id)


@users_app.command("list")
@friendly
def list_command() -> None:
    """List console users: id, e-mail, role, state, last sign-in."""
    from lealta.users.service import list_users

    uow = _unit_of_work()
    with uow.transaction() as session:
        for user in list_users(session):
            state = "disabled" if user.disabled_at else "active"
            seen = f"{user.last_sign_in_at:%Y-%m-%d %H:%M}" if user.last_sign_in_at else "never"
            typer.echo(f"{user.id}\t{user.email}\t{user.role}\t{state}\tlast sign-in: {seen}")


@users_app.command("disable")
@friendly
def disable_command(
    user: str = typer.Argument(..., help="The user's id or e-mail."),
) -> None:
    """Stop a user from signing in; their open console sessions end at their next request."""
    from lealta.users.service import disable_user

    uow = _unit_of_work()
    with uow.transaction() as session:
        found = disable_user(session, user, now=dt.datetime.now(dt.UTC))
        typer.echo(f"disabled {found.email}")


@users_app.command("enable")
@friendly
def enable_command(
    user: str = typer.Argument(..., help="The user's id or e-mail."),
) -> None:
    """Let a disabled user sign in again."""
    from lealta.users.service import enable_user

    uow = _unit_of_work()
    with uow.transaction() as session:
        typer.echo(f"enabled {enable_user(session, user).email}")


@users_app.command("reset-password")
@friendly
def reset_password_command(
    user: str = typer.Argument(..., help="The user's id or e-mail."),
) -> None:
    """Set a new password, read like 'create' does; the user is signed out everywhere."""
    from lealta.users.service import reset_password

    password = _read_password()
    uow = _unit_of_work()
    with uow.transaction() as session:
        found = reset_password(session, user, password)
        typer.echo(f"new password set for {found.email}; their sessions have ended")
