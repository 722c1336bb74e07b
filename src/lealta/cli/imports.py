"""``lealta import contacts|orders|events FILE``: bring data in through the tracking pipeline.

Exit codes: 0 every row was imported; 3 some rows were rejected (the others were imported; see
the table on stderr and ``--rejects``); 2 the file cannot be imported at all (missing,
unreadable, a required column absent); 1 an internal error.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.imports.service import ImportRequest, ImportResult

EXIT_REJECTED = 3
COLUMNS = "Column mapping (detected from common names when not given)"

import_app = typer.Typer(
    help="Import contacts, orders or events from CSV (.csv, .csv.gz), Parquet or JSON lines. "
    "Exit code 0: all rows imported; 3: some rows rejected (listed); 2: file not importable.",
    no_args_is_help=True,
)


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


class Level(StrEnum):
    auto = "auto"
    order = "order"
    line = "line"


def _column(flag: str, help_: str) -> Any:
    return typer.Option(flag, help=help_, rich_help_panel=COLUMNS, show_default=False)


File = Annotated[
    Path, typer.Argument(help="The file: .csv, .csv.gz, .tsv, .parquet, .jsonl (.gz allowed).")
]
Format = Annotated[
    FileFormat | None,
    typer.Option("--format", help="Read the file as this format, whatever its extension."),
]
Encoding = Annotated[str, typer.Option(help="Text encoding of CSV and JSON lines files.")]
Rejects = Annotated[
    Path | None,
    typer.Option(
        "--rejects", help="Write every rejected row (line, field, reason, the row) to this CSV."
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
CustomerColumn = Annotated[str | None, _column("--customer-column", "Customer id column.")]
EmailColumn = Annotated[str | None, _column("--email-column", "E-mail column.")]
PhoneColumn = Annotated[str | None, _column("--phone-column", "Phone column.")]
AnonymousColumn = Annotated[
    str | None, _column("--anonymous-id-column", "Anonymous (device, browser) id column.")
]


@import_app.command("contacts")
@friendly
def contacts_command(
    file: File,
    customer_column: CustomerColumn = None,
    email_column: EmailColumn = None,
    phone_column: PhoneColumn = None,
    anonymous_id_column: AnonymousColumn = None,
    format: Format = None,
    encoding: Encoding = "utf-8",
    rejects: Rejects = None,
    dry_run: DryRun = False,
    quiet: Quiet = False,
) -> None:
    """Import contacts: one row per person; other columns become attributes.

    A row is identified by its customer id, e-mail or phone (at least one). Importing the same
    file again changes nothing; a row whose values changed is applied again.
    """
    from lealta.imports.service import ImportRequest

    columns = {
        "user_id": customer_column,
        "email": email_column,
        "phone": phone_column,
        "anonymous_id": anonymous_id_column,
    }
    common = _common(format, encoding, columns, rejects, dry_run)
    _run(ImportRequest("contacts", file, **common), quiet)


@import_app.command("orders")
@friendly
def orders_command(
    file: File,
    order_column: Annotated[
        str | None, _column("--order-column", "Order (invoice) id column.")
    ] = None,
    customer_column: CustomerColumn = None,
    email_column: EmailColumn = None,
    phone_column: PhoneColumn = None,
    date_column: Annotated[str | None, _column("--date-column", "Order date column.")] = None,
    amount_column: Annotated[
        str | None,
        _column(
            "--amount-column", "Amount column (the order total; the line total in line files)."
        ),
    ] = None,
    quantity_column: Annotated[
        str | None, _column("--quantity-column", "Quantity column (lines).")
    ] = None,
    price_column: Annotated[
        str | None, _column("--price-column", "Unit price column (lines).")
    ] = None,
    currency_column: Annotated[str | None, _column("--currency-column", "Currency column.")] = None,
    payment_method_column: Annotated[
        str | None, _column("--payment-method-column", "Payment method column.")
    ] = None,
    due_date_column: Annotated[
        str | None, _column("--due-date-column", "Payment due date column.")
    ] = None,
    paid_date_column: Annotated[
        str | None, _column("--paid-date-column", "Payment date column.")
    ] = None,
    currency: str = typer.Option("EUR", help="Currency of orders without a currency column."),
    date_format: str | None = typer.Option(
        None, "--date-format", help="strftime format of the dates, e.g. %d/%m/%Y %H:%M."
    ),
    level: Level = typer.Option(
        Level.auto,
        help="order: one row per order; line: one row per order line (consecutive rows of an "
        "order are summed); auto: line when there are quantity, price or product columns.",
    ),
    format: Format = None,
    encoding: Encoding = "utf-8",
    rejects: Rejects = None,
    dry_run: DryRun = False,
    quiet: Quiet = False,
) -> None:
    """Import orders as 'Order Completed' events: each reaches its customer's profile.

    Order ids are unique: re-importing a file adds nothing, and an order id repeated in the
    file with other content is rejected. Returns (negative quantities) are rejected.
    """
    from lealta.imports.service import ImportRequest

    columns = {
        "order": order_column, "user_id": customer_column, "email": email_column,
        "phone": phone_column, "date": date_column, "amount": amount_column,
        "quantity": quantity_column, "price": price_column, "currency": currency_column,
        "payment_method": payment_method_column, "due_date": due_date_column,
        "paid_date": paid_date_column,
    }  # fmt: skip
    request = ImportRequest(
        "orders",
        file,
        **_common(format, encoding, columns, rejects, dry_run),
        currency=currency.upper(),
        date_format=date_format,
        line_level=None if level == Level.auto else level == Level.line,
    )
    _run(request, quiet)


@import_app.command("events")
@friendly
def events_command(
    file: File,
    format: Format = None,
    encoding: Encoding = "utf-8",
    rejects: Rejects = None,
    dry_run: DryRun = False,
    quiet: Quiet = False,
) -> None:
    """Import events: type, event, userId/anonymousId/email, timestamp, properties, messageId.

    properties is a JSON object, or one 'properties.NAME' column per property; in CSV and
    Parquet files other columns become properties. Rows without messageId get one derived
    from their content, so importing the same file again adds nothing.
    """
    from lealta.imports.service import ImportRequest

    common = _common(format, encoding, {}, rejects, dry_run)
    _run(ImportRequest("events", file, **common), quiet)


def _common(
    format: FileFormat | None,
    encoding: str,
    columns: dict[str, str | None],
    rejects: Path | None,
    dry_run: bool,
) -> dict[str, Any]:
    """The ImportRequest fields every kind shares."""
    return {
        "format": format.value if format else None,
        "encoding": encoding,
        "columns": columns,
        "rejects": rejects,
        "dry_run": dry_run,
    }


def _run(request: ImportRequest, quiet: bool) -> None:
    from lealta.config import get_settings
    from lealta.imports.service import import_file

    console = Console(stderr=True, quiet=quiet)
    services = None
    if not request.dry_run:
        from lealta.bootstrap import build

        services = build()
    region = get_settings().default_phone_region
    with _Bars(console, request) as (on_read, on_apply):
        result = import_file(request, services, region=region, on_read=on_read, on_apply=on_apply)
    _summary(console, request, result)
    if result.rejected:
        raise typer.Exit(EXIT_REJECTED)


class _Bars:
    """Two progress bars on stderr: reading the file, then applying to profiles."""

    def __init__(self, console: Console, request: ImportRequest) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=console.quiet or not console.is_terminal,
        )
        self.read = self.progress.add_task(f"Reading {request.path.name}", total=None)
        self.apply = self.progress.add_task("Applying to profiles", total=None, visible=False)

    def __enter__(self) -> tuple[Any, Any]:
        self.progress.start()

        def on_read(done: int, total: int) -> None:
            self.progress.update(self.read, completed=done, total=total)

        def on_apply(done: int, total: int) -> None:
            self.progress.update(self.read, completed=self.progress.tasks[0].total)
            self.progress.update(self.apply, completed=done, total=total, visible=True)

        return on_read, on_apply

    def __exit__(self, *_exc: object) -> None:
        self.progress.stop()


def _summary(console: Console, request: ImportRequest, result: ImportResult) -> None:
    from rich.table import Table

    from lealta.imports.rejects import SHOWN

    mapping = ", ".join(f"{role}={col}" for role, col in result.mapping.items())
    if mapping:
        console.print(f"columns: {mapping}", highlight=False)
    imported = result.rows - result.rejected - result.duplicates
    console.print(
        f"{request.kind}: read {result.rows:,} rows; {imported:,} accepted "
        f"({result.messages:,} messages), {result.rejected:,} rejected, "
        f"{result.duplicates:,} repeated in the file (skipped)",
        highlight=False,
    )
    if request.dry_run:
        console.print("dry run: nothing was written")
    elif result.added:
        added = ", ".join(f"+{n:,} {name}" for name, n in result.added.items())
        console.print(f"applied {result.applied:,} messages to profiles: {added}", highlight=False)
    if result.failed:
        console.print(
            f"[red]{result.failed:,} messages could not be applied; see GET /v1/status[/red]"
        )
    if not result.rejected:
        return
    table = Table(
        title=f"Rejected rows (first {min(SHOWN, result.rejected)} of {result.rejected:,})"
    )
    for name in ("line", "field", "reason"):
        table.add_column(name, overflow="fold")
    for rejection in result.rejections.shown:
        table.add_row(str(rejection.line), rejection.field, rejection.reason)
    console.print(table)
    if request.rejects:
        console.print(f"every rejected row is in {request.rejects}", highlight=False)
    else:
        console.print("write them all with --rejects FILE.csv")
