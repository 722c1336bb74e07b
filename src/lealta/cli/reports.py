"""``lealta reports``: how messages did, conversion attribution, and the bounce webhook's URL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly
from lealta.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lealta.bootstrap import Services
    from lealta.feedback.reports import MessageStats

reports_app = typer.Typer(
    help="Delivery reports: per template, step, channel or workflow; conversions; bounces.",
    no_args_is_help=True,
)

# Columns of the table (name, header); CSV and JSON carry every field.
COLUMNS = (
    ("sent", "Sent"),
    ("delivered", "Deliv."),
    ("bounced", "Bounced"),
    ("opened_unique", "Opened"),
    ("clicked_unique", "Clicked"),
    ("unsubscribed", "Unsub."),
    ("complained", "Compl."),
    ("converted", "Conv."),
    ("revenue", "Revenue"),
)
RATES = (
    ("open_rate", "Open %"),
    ("click_rate", "Click %"),
    ("click_to_open", "CTOR %"),
    ("unsubscribe_rate", "Unsub %"),
    ("bounce_rate", "Bounce %"),
    ("conversion_rate", "Conv %"),
)


@contextmanager
def _services() -> Iterator[Services]:
    from lealta.bootstrap import build

    services = build()
    try:
        yield services
    finally:
        services.uow.engine.dispose()


def parse_moment(text: str | None, field: str) -> dt.datetime | None:
    """``2025-06-01`` or ``2025-06-01T12:00:00+02:00`` as an aware UTC moment."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date or ISO 8601 time", field=field) from None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@reports_app.command("messages")
@friendly
def messages_command(
    by: str = typer.Option("template", "--by", help="template, step, channel or workflow."),
    since: str | None = typer.Option(None, help="Messages sent from this date/time."),
    until: str | None = typer.Option(None, help="Messages sent before this date/time."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
) -> None:
    """Sent, delivered, bounced, opened, clicked, unsubscribed, complained, converted and
    revenue, with rates, per group of messages sent in the range."""
    from lealta.feedback.reports import message_report

    if as_json and as_csv:
        raise InvalidInput("choose --json or --csv, not both", field="json")
    start, end = parse_moment(since, "since"), parse_moment(until, "until")
    with _services() as services, services.uow.transaction() as session:
        rows = message_report(session, by=by, since=start, until=end)
    if as_json:
        import orjson

        document = {
            "by": by,
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "rows": [row.as_dict() for row in rows],
        }
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    elif as_csv:
        typer.echo(to_csv(rows), nl=False)
    else:
        _print_table(by, rows)


def to_csv(rows: Sequence[MessageStats]) -> str:
    """Every field of every row, one line each, with a header."""
    out = io.StringIO()
    if rows:
        records = [row.as_dict() for row in rows]
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return out.getvalue()


def _print_table(by: str, rows: Sequence[MessageStats]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Messages by {by}", title_justify="left")
    table.add_column(by.capitalize() if by != "step" else "Workflow / step")
    for _, header in (*COLUMNS, *RATES):
        table.add_column(header, justify="right")
    for row in rows:
        values = row.as_dict()
        cells = [str(values[name]) for name, _ in COLUMNS]
        cells += [_percent(values[name]) for name, _ in RATES]
        table.add_row(row.label, *cells)
    console = Console()
    if rows:
        console.print(table)
    else:
        console.print("No messages were sent in that range.")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


@reports_app.command("attribute")
@friendly
def attribute_command(
    since: str = typer.Option(..., help="Credit orders placed from this date/time on."),
    days: int | None = typer.Option(
        None, min=0, max=365, help="Attribution window (default: LEALTA_ATTRIBUTION_DAYS, 5)."
    ),
    opens: bool = typer.Option(
        False, "--opens", help="Credit the last open when no click preceded the order."
    ),
) -> None:
    """Credit orders not credited yet to the message last clicked before them."""
    from lealta.feedback.attribution import attribute_since
    from lealta.storage.retry import in_transaction

    start = parse_moment(since, "since")
    assert start is not None
    with _services() as services:
        now = services.clock.now()
        window = services.settings.attribution_days if days is None else days

        def work(session: Session) -> int:
            return attribute_since(session, start, now=now, days=window, opens=opens)

        credited = in_transaction(services.uow, work)
    typer.echo(f"credited {credited} order(s) to messages (window {window} day(s))")


@reports_app.command("webhook-url")
@friendly
def webhook_url_command() -> None:
    """Print the URL e-mail providers post bounces and complaints to (with its token)."""
    from lealta.config import get_settings
    from lealta.feedback.bounces import webhook_token

    settings = get_settings()
    typer.echo(
        f"{settings.base_url}/v1/feedback/bounces?token={webhook_token(settings.secret_key)}"
    )
