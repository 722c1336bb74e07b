"""``lealta contacts``: export everything held on a person, or erase them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.bootstrap import Services

contacts_app = typer.Typer(
    help="Contacts: export everything held on a person (GDPR access), or erase them.",
    no_args_is_help=True,
)


@contextmanager
def _services() -> Iterator[Services]:
    """The services of the process's settings; their connections closed at the end."""
    from lealta.bootstrap import build

    services = build()
    try:
        yield services
    finally:
        services.uow.engine.dispose()


@contacts_app.command("export")
@friendly
def export_command(
    contact_id: str = typer.Argument(..., help="The contact's id."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the JSON document here instead of to stdout."
    ),
) -> None:
    """Print (or write) the JSON document of everything held on a contact."""
    import orjson

    from lealta.privacy.export import export_contact

    with _services() as services, services.uow.transaction() as session:
        document = export_contact(session, contact_id, now=services.clock.now())
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
    if output is None:
        typer.echo(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@contacts_app.command("erase")
@friendly
def erase_command(
    contact_id: str = typer.Argument(..., help="The contact's id."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase a contact for good (right to erasure).

    Identifiers, tags, list memberships and attributes are deleted; events are anonymised;
    orders and consent records are kept without personal details. It cannot be undone.
    """
    from lealta.privacy.erase import erase_contact
    from lealta.storage.retry import in_transaction

    if not yes:
        typer.confirm(f"Erase contact {contact_id} for good?", abort=True)
    with _services() as services:
        now = services.clock.now()
        done = in_transaction(services.uow, lambda s: erase_contact(s, contact_id, now=now))
    typer.echo(
        f"erased {done.contact_id}: {done.identifiers} identifier(s), {done.tags} tag(s), "
        f"{done.list_memberships} list membership(s) deleted; "
        f"{done.events_anonymised} event(s) anonymised; {done.orders_kept} order(s) and "
        f"{done.consents_kept} consent record(s) kept"
    )
