"""Command-line parameters shared by ``lealta rfm`` and ``lealta cluster``, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

MAPPING = "Column mapping (detected from common names when not given)"
DEFINITION = "Definitions"
OUTPUT = "Output"


class PaymentKind(StrEnum):
    promptness = "promptness"
    method = "method"


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _column(flag: str, help_: str) -> Any:
    return typer.Option(flag, help=help_, rich_help_panel=MAPPING)


OrderFile = Annotated[
    Path, typer.Argument(help="Order file: .csv, .csv.gz, .parquet, .xlsx or .jsonl.")
]
Customer = Annotated[str | None, _column("--customer", "Customer id column.")]
Date = Annotated[str | None, _column("--date", "Order date column.")]
Order = Annotated[str | None, _column("--order", "Order (invoice) id column.")]
Amount = Annotated[str | None, _column("--amount", "Amount column (line or order total).")]
Quantity = Annotated[
    str | None, _column("--quantity", "Quantity column (amount = quantity x price).")
]
Price = Annotated[str | None, _column("--price", "Unit price column.")]
PaymentMethod = Annotated[str | None, _column("--payment-method", "Payment method column.")]
DueDate = Annotated[str | None, _column("--due-date", "Payment due date column (RFMP).")]
PaidDate = Annotated[str | None, _column("--paid-date", "Payment date column (RFMP).")]
DaysToPay = Annotated[str | None, _column("--days-to-pay", "Days-to-pay column (RFMP).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of CSV files.", rich_help_panel=MAPPING)]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Analysis date YYYY-MM-DD; later orders are excluded. "
        "Default: the day after the last order.",
        rich_help_panel=DEFINITION,
    ),
]
Payment = Annotated[
    PaymentKind | None,
    typer.Option(
        help="Add the P of RFMP: promptness (days late) or method ranking.",
        rich_help_panel=DEFINITION,
    ),
]
PaymentRanking = Annotated[
    str | None,
    typer.Option(
        "--payment-ranking",
        help="Payment method values, e.g. card=5,paypal=4,invoice=2, or a YAML file.",
        rich_help_panel=DEFINITION,
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Per-customer table: .csv, .csv.gz, .parquet, .json or .jsonl.",
        rich_help_panel=OUTPUT,
    ),
]
Report = Annotated[
    Path | None,
    typer.Option("--report", help="Self-contained HTML report.", rich_help_panel=OUTPUT),
]
Engine = Annotated[EngineName, typer.Option(help="Analytics engine.", rich_help_panel=OUTPUT)]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print nothing but errors.", rich_help_panel=OUTPUT),
]


def column_roles(**columns: str | None) -> dict[str, str | None]:
    """The column-mapping options as role → column (``None`` where not given)."""
    return dict(columns)
