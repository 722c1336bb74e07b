"""``lealta loyalty override set|remove|list``: tiers given by decision ("VIP by decision")."""

from __future__ import annotations

import datetime as dt
import getpass

import typer

from lealta.cli.errors import friendly

override_app = typer.Typer(
    help="Tiers given by decision: kept by every review until their last day.",
    no_args_is_help=True,
)


def _day(text: str | None) -> dt.date | None:
    from lealta.errors import InvalidInput

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--until {text!r} is not a day (YYYY-MM-DD)", field="until") from None


@override_app.command("set")
@friendly
def set_command(
    contact_id: str = typer.Argument(..., help="The contact's id (a merged id: its survivor)."),
    tier: str = typer.Option(..., "--tier", help="A tier of the programme (any case)."),
    reason: str = typer.Option(..., "--reason", help="Why: shown on the card and in history."),
    until: str | None = typer.Option(
        None,
        "--until",
        help="Last day of the decision, YYYY-MM-DD (inclusive); default: until removed.",
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who decided (default: the system user running the command)."
    ),
) -> None:
    """Put a contact in a tier by decision; the tier moves now (recorded with the reason)."""
    from lealta.cli.loyalty import _services
    from lealta.loyalty.overrides import set_override

    last = _day(until)
    with _services() as services, services.uow.transaction() as session:
        done = set_override(
            session,
            contact_id,
            tier=tier,
            reason=reason,
            until=last,
            set_by=by or f"cli {getpass.getuser()}",
            now=services.clock.now(),
        )
    moved = "stays" if done.before == done.after else f"moved from {done.before or 'no tier'}"
    ends = f"until {last.isoformat()}" if last else "until removed"
    typer.echo(f"{done.contact_id}: {done.after} by decision {ends} ({moved})")


@override_app.command("remove")
@friendly
def remove_command(
    contact_id: str = typer.Argument(..., help="The contact's id."),
) -> None:
    """End a contact's tier by decision now; the status rules (and their grace) apply from
    the next review."""
    from lealta.cli.loyalty import _services
    from lealta.loyalty.overrides import remove_override

    with _services() as services, services.uow.transaction() as session:
        done = remove_override(session, contact_id, now=services.clock.now())
    typer.echo(
        f"{done.contact_id}: decision removed; holds {done.after or 'no tier'} under the "
        "status rules from the next review"
    )


@override_app.command("list")
@friendly
def list_command(
    include_expired: bool = typer.Option(
        False, "--all", help="Also list decisions whose last day has passed."
    ),
) -> None:
    """List tiers given by decision, newest first."""
    from rich.console import Console
    from rich.table import Table

    from lealta.cli.loyalty import _services
    from lealta.loyalty.overrides import is_active, listed

    with _services() as services, services.uow.transaction() as session:
        today = services.clock.now().date()
        rows = listed(session, include_expired=include_expired, today=today)
        table = Table(title="Tiers by decision", title_justify="left")
        for column in ("Contact", "Tier", "Until", "Reason", "Set by", "Set at", "In force"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                row.contact_id,
                row.tier,
                row.until.isoformat() if row.until else "until removed",
                row.reason,
                row.set_by,
                f"{row.set_at:%Y-%m-%d %H:%M}",
                "yes" if is_active(row, today) else "no",
            )
    if not rows:
        typer.echo("no tiers by decision")
        return
    Console(width=160).print(table)
