"""``lealta cluster``: K-Means groups of customers with readable names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lealta.cli.errors import friendly
from lealta.cli.options import parse_date, parse_ranking
from lealta.cli.rfm import EngineName, PaymentKind

MAPPING = "Column mapping (detected from common names when not given)"
CLUSTERING = "Clustering"
OUTPUT = "Output"


def _opt(help_: str, panel: str, *names: str) -> Any:
    return typer.Option(None, *names, help=help_, rich_help_panel=panel)


@friendly
def cluster_command(
    file: Path = typer.Argument(..., help="Order file: .csv, .csv.gz, .parquet, .xlsx or .jsonl."),
    customer: str | None = _opt("Customer id column.", MAPPING, "--customer"),
    date: str | None = _opt("Order date column.", MAPPING, "--date"),
    order: str | None = _opt("Order (invoice) id column.", MAPPING, "--order"),
    amount: str | None = _opt("Amount column.", MAPPING, "--amount"),
    quantity: str | None = _opt(
        "Quantity column (amount = quantity x price).", MAPPING, "--quantity"
    ),
    price: str | None = _opt("Unit price column.", MAPPING, "--price"),
    payment_method: str | None = _opt("Payment method column.", MAPPING, "--payment-method"),
    due_date: str | None = _opt("Payment due date column.", MAPPING, "--due-date"),
    paid_date: str | None = _opt("Payment date column.", MAPPING, "--paid-date"),
    days_to_pay: str | None = _opt("Days-to-pay column.", MAPPING, "--days-to-pay"),
    encoding: str = typer.Option(
        "utf-8", help="Text encoding of CSV files.", rich_help_panel=MAPPING
    ),
    as_of: str | None = _opt("Analysis date YYYY-MM-DD.", CLUSTERING, "--as-of"),
    payment: PaymentKind | None = typer.Option(
        None, help="Cluster on RFMP: add promptness or method ranking.", rich_help_panel=CLUSTERING
    ),
    payment_ranking: str | None = _opt(
        "Payment method values, e.g. card=5,invoice=2.", CLUSTERING, "--payment-ranking"
    ),
    k: str = typer.Option(
        "auto",
        "--k",
        help="Number of clusters, or 'auto' to choose by silhouette.",
        rich_help_panel=CLUSTERING,
    ),
    k_min: int = typer.Option(
        2, min=2, help="Smallest k tried by 'auto'.", rich_help_panel=CLUSTERING
    ),
    k_max: int = typer.Option(
        8, min=2, help="Largest k tried by 'auto'.", rich_help_panel=CLUSTERING
    ),
    seed: int = typer.Option(
        42, help="Random seed: same seed, same clusters.", rich_help_panel=CLUSTERING
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Per-customer table with clusters (.csv, .parquet, .json).",
        rich_help_panel=OUTPUT,
    ),
    profiles: Path | None = _opt("Per-cluster profile table (.csv).", OUTPUT, "--profiles"),
    report: Path | None = _opt("Self-contained HTML report.", OUTPUT, "--report"),
    engine: EngineName = typer.Option(
        EngineName.duckdb, help="Analytics engine.", rich_help_panel=OUTPUT
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print nothing but errors.", rich_help_panel=OUTPUT
    ),
) -> None:
    """Group customers with K-Means on log-scaled, standardised R, F, M (and P).

    k is chosen by the silhouette score over --k-min..--k-max unless given. Each cluster gets a
    profile (size, revenue share, mean R/F/M/P) and a name derived from it.
    """
    from lealta.cli.session import RFMRequest, execute_rfm
    from lealta.errors import InvalidInput
    from lealta.segmentation.options import RFMOptions

    if k_min > k_max:
        raise InvalidInput("--k-min must not exceed --k-max", field="k_min")
    options = RFMOptions(
        as_of=parse_date(as_of, "--as-of"),
        payment=payment.value if payment else None,
        method_ranking=parse_ranking(payment_ranking),
    )
    columns = {
        "customer": customer, "date": date, "order": order, "amount": amount,
        "quantity": quantity, "price": price, "payment_method": payment_method,
        "due_date": due_date, "paid_date": paid_date, "days_to_pay": days_to_pay,
    }  # fmt: skip
    execute_rfm(
        RFMRequest(
            file=file,
            options=options,
            columns=columns,
            engine=engine.value,
            encoding=encoding,
            output=output,
            report=report,
            clusters=k,
            quiet=quiet,
            cluster_range=(k_min, k_max),
            seed=seed,
            profiles_output=profiles,
        )
    )
