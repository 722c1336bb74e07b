"""``lealta keys``: API keys for the tracking and admin APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.storage.unit_of_work import UnitOfWork

keys_app = typer.Typer(help="API keys: write-only tracking keys and admin keys.")


def _unit_of_work() -> UnitOfWork:
    from lealta.config import get_settings
    from lealta.storage.engine import make_engine
    from lealta.storage.migrate import upgrade
    from lealta.storage.unit_of_work import UnitOfWork

    url = get_settings().database_url
    upgrade(url)  # keys need the schema; creating it is harmless when it exists
    return UnitOfWork(make_engine(url))


@keys_app.command("create")
@friendly
def create_command(
    scope: str = typer.Option(
        ..., help="track: write-only, safe to embed in a site; admin: manages everything."
    ),
    name: str = typer.Option("", help="A name to recognise the key by."),
) -> None:
    """Create an API key. The key is printed once, as the last line: store it now."""
    import datetime as dt

    from lealta.keys.service import create_key

    uow = _unit_of_work()
    with uow.transaction() as session:
        issued = create_key(session, scope=scope, name=name, now=dt.datetime.now(dt.UTC))
    typer.echo(f"created {issued.scope} key {issued.key_id}; it is shown only now:", err=True)
    typer.echo(issued.key)


@keys_app.command("list")
@friendly
def list_command() -> None:
    """List keys (ids, names, scopes, dates; secrets are never stored)."""
    from lealta.keys.service import list_keys

    uow = _unit_of_work()
    with uow.transaction() as session:
        for key in list_keys(session):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.key_id}\t{key.scope}\t{state}\t{key.created_at:%Y-%m-%d}\t{key.name}")


@keys_app.command("revoke")
@friendly
def revoke_command(
    key_id: str = typer.Argument(..., help="The key's id (see 'lealta keys list')."),
) -> None:
    """Revoke a key; servers stop accepting it within 10 seconds (they cache verified keys
    that long)."""
    import datetime as dt

    from lealta.keys.service import revoke_key

    uow = _unit_of_work()
    with uow.transaction() as session:
        revoke_key(session, key_id, now=dt.datetime.now(dt.UTC))
    typer.echo(f"revoked {key_id}")
