"""``lealta cluster``: K-Means groups of customers with readable names."""

from __future__ import annotations

from pathlib import Path

import typer

from lealta.cli import params as p
from lealta.cli.errors import friendly
from lealta.cli.options import parse_date, parse_ranking

CLUSTERING = "Clustering"


@friendly
def cluster_command(
    file: p.OrderFile,
    customer: p.Customer = None,
    date: p.Date = None,
    order: p.Order = None,
    amount: p.Amount = None,
    quantity: p.Quantity = None,
    price: p.Price = None,
    payment_method: p.PaymentMethod = None,
    due_date: p.DueDate = None,
    paid_date: p.PaidDate = None,
    days_to_pay: p.DaysToPay = None,
    encoding: p.Encoding = "utf-8",
    as_of: p.AsOf = None,
    payment: p.Payment = None,
    payment_ranking: p.PaymentRanking = None,
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
    output: p.Output = None,
    profiles: Path | None = typer.Option(
        None, "--profiles", help="Per-cluster profile table (.csv).", rich_help_panel=p.OUTPUT
    ),
    report: p.Report = None,
    engine: p.Engine = p.EngineName.duckdb,
    quiet: p.Quiet = False,
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
    columns = p.column_roles(
        customer=customer, date=date, order=order, amount=amount, quantity=quantity,
        price=price, payment_method=payment_method, due_date=due_date, paid_date=paid_date,
        days_to_pay=days_to_pay,
    )  # fmt: skip
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
