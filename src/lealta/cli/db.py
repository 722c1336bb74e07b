"""``lealta db``: the state store's schema."""

from __future__ import annotations

import typer

from lealta.cli.errors import friendly

db_app = typer.Typer(help="The state store (SQLite by default, PostgreSQL in production).")


@db_app.command("upgrade")
@friendly
def upgrade_command(
    revision: str = typer.Argument("head", help="Revision to migrate to (default: the latest)."),
) -> None:
    """Create or migrate the database at LEALTA_DATABASE_URL to the latest schema."""
    from lealta.config import get_settings
    from lealta.storage.migrate import current_revision, upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"database at revision {current_revision(url)} ({_safe(url)})")


@db_app.command("current")
@friendly
def current_command() -> None:
    """Print the database's schema revision and the latest one Lealta ships."""
    from lealta.config import get_settings
    from lealta.storage.migrate import current_revision, head_revision

    url = get_settings().database_url
    current = current_revision(url)
    head = head_revision()
    state = "up to date" if current == head else "run 'lealta db upgrade'"
    typer.echo(f"database: {current or 'empty'}; latest: {head} ({state})")


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
