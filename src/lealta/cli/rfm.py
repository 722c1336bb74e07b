"""``lealta rfm``: score an order export and name its segments."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from lealta.cli import params as p
from lealta.cli.errors import friendly
from lealta.cli.options import parse_breaks, parse_date, parse_ranking, parse_window
from lealta.cli.params import DEFINITION, MAPPING, OUTPUT

SCORING = "Scoring"
DEFAULT_CANCEL_PATTERN = r"^[Cc][0-9]"

OrderFileOrStore = Annotated[
    Path | None,
    typer.Argument(
        help="Order file: .csv, .csv.gz, .parquet, .xlsx or .jsonl (omit with --from-store).",
        show_default=False,
    ),
]


class PurchaseUnit(StrEnum):
    order = "order"
    day = "day"
    row = "row"


class MonetaryKind(StrEnum):
    sum = "sum"
    mean = "mean"


class PresetName(StrEnum):
    lealta = "lealta"
    r_rfm = "r-rfm"
    pymc = "pymc"


def _opt(help_: str, panel: str, *names: str) -> Any:
    return typer.Option(None, *names, help=help_, rich_help_panel=panel)


@friendly
def rfm_command(
    file: OrderFileOrStore = None,
    from_store: bool = typer.Option(
        False,
        "--from-store",
        help="Score the orders in Lealta's database (LEALTA_DATABASE_URL) instead of a file, "
        "and save each contact's result (contact_rfm).",
        rich_help_panel=DEFINITION,
    ),
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
    email: str | None = _opt("E-mail column (carried to the output).", MAPPING, "--email"),
    name: str | None = _opt("Customer name column (carried to the output).", MAPPING, "--name"),
    group: list[str] = typer.Option(
        [],
        "--group",
        help="Score within each value of this column (repeatable).",
        rich_help_panel=MAPPING,
    ),
    date_format: str | None = _opt(
        "strftime format of the dates, e.g. %d/%m/%Y.", MAPPING, "--date-format"
    ),
    encoding: p.Encoding = "utf-8",
    decimal_comma: bool = typer.Option(
        False, help="Numbers are written 1.234,56 (decimal comma).", rich_help_panel=MAPPING
    ),
    as_of: p.AsOf = None,
    window: str | None = _opt(
        "Only the last N days count (365, 52w, 12m, 1y).", DEFINITION, "--window"
    ),
    since: str | None = _opt(
        "Only orders on or after this date count (a season).", DEFINITION, "--since"
    ),
    purchase: PurchaseUnit = typer.Option(
        PurchaseUnit.order, help="What one purchase is.", rich_help_panel=DEFINITION
    ),
    monetary: MonetaryKind = typer.Option(
        MonetaryKind.sum,
        help="Total spent (sum) or average purchase value (mean).",
        rich_help_panel=DEFINITION,
    ),
    payment: p.Payment = None,
    payment_ranking: p.PaymentRanking = None,
    cancel_pattern: str | None = typer.Option(
        None,
        help="Regex on the order id marking cancellations ('' to disable). "
        "Default: ^[Cc][0-9] for files, none with --from-store.",
        rich_help_panel=DEFINITION,
    ),
    bins: int = typer.Option(
        5, min=2, max=10, help="Score levels for quantile scoring.", rich_help_panel=SCORING
    ),
    r_breaks: str | None = _opt(
        "Recency thresholds in days, e.g. 30,90,180,365.", SCORING, "--r-breaks"
    ),
    f_breaks: str | None = _opt("Frequency thresholds, e.g. 1,2,4,8.", SCORING, "--f-breaks"),
    m_breaks: str | None = _opt("Monetary thresholds.", SCORING, "--m-breaks"),
    p_breaks: str | None = _opt("Payment thresholds.", SCORING, "--p-breaks"),
    best: int = typer.Option(
        5, help="Which score is best: 5 (default) or 1.", rich_help_panel=SCORING
    ),
    reverse_recency: bool = typer.Option(
        False, help="Longest-ago buyers score best (durable goods).", rich_help_panel=SCORING
    ),
    segments: Path | None = _opt(
        "Segment map YAML replacing the default map.", SCORING, "--segments"
    ),
    preset: PresetName = typer.Option(
        PresetName.lealta,
        help="Reproduce another tool's definitions exactly.",
        rich_help_panel=SCORING,
    ),
    output: p.Output = None,
    summary_output: Path | None = _opt(
        "Per-segment summary table (.csv, .json).", OUTPUT, "--summary-output"
    ),
    rejects: Path | None = _opt(
        "Write every dropped row with its line and reason (.csv).", OUTPUT, "--rejects"
    ),
    report: p.Report = None,
    clusters: str | None = _opt(
        "Add K-Means clusters: 'auto' or a number of clusters.", OUTPUT, "--clusters"
    ),
    engine: p.Engine = p.EngineName.duckdb,
    quiet: p.Quiet = False,
) -> None:
    """Score customers by Recency, Frequency, Monetary (and Payment) and name their segments.

    Reads an order export, cleans it (every dropped row is counted, and listed with --rejects),
    computes R, F, M (and P) per customer, scores them 1-5 and assigns named segments.
    """
    from lealta.cli.session import RFMRequest, execute_rfm
    from lealta.errors import InvalidInput
    from lealta.segmentation.options import RFMOptions

    if best not in (1, 5):
        raise InvalidInput("--best takes 5 (highest is best) or 1 (1 is best)", field="best")
    thresholds = {
        dim: breaks
        for dim, text in (("r", r_breaks), ("f", f_breaks), ("m", m_breaks), ("p", p_breaks))
        if (breaks := parse_breaks(text, f"--{dim}-breaks"))
    }
    options = RFMOptions(
        as_of=parse_date(as_of, "--as-of"),
        window_days=parse_window(window),
        since=parse_date(since, "--since"),
        purchase=purchase.value,
        monetary=monetary.value,
        bins=bins,
        thresholds=thresholds,
        best_high=best == 5,
        reverse_recency=reverse_recency,
        payment=payment.value if payment else None,
        method_ranking=parse_ranking(payment_ranking),
        date_format=date_format,
        cancel_pattern=_cancel_pattern(cancel_pattern, from_store),
        decimal_comma=decimal_comma,
    )
    columns = p.column_roles(
        customer=customer, date=date, order=order, amount=amount, quantity=quantity,
        price=price, payment_method=payment_method, due_date=due_date, paid_date=paid_date,
        days_to_pay=days_to_pay, email=email, name=name,
    )  # fmt: skip
    _check_source(file, from_store, columns, group)
    request = RFMRequest(
        file=file or Path("orders-in-store.parquet"),
        options=options,
        columns=columns,
        groups=tuple(group),
        segments=segments,
        preset=preset.value,
        engine=engine.value,
        encoding=encoding,
        output=output,
        summary_output=summary_output,
        rejects=rejects,
        report=report,
        clusters=clusters,
        quiet=quiet,
    )
    if from_store:
        _execute_from_store(request)
    else:
        execute_rfm(request)


def _cancel_pattern(given: str | None, from_store: bool) -> str:
    if given is not None:
        return given
    return "" if from_store else DEFAULT_CANCEL_PATTERN


def _check_source(
    file: Path | None, from_store: bool, columns: dict[str, str | None], group: list[str]
) -> None:
    from lealta.errors import InvalidInput

    if from_store and file is not None:
        raise InvalidInput("give an order FILE or --from-store, not both", field="file")
    if not from_store and file is None:
        raise InvalidInput("missing the order FILE (or --from-store)", field="file")
    if from_store and (given := [role for role, col in columns.items() if col]):
        raise InvalidInput(
            f"column options ({', '.join(given)}) do not apply to --from-store", field=given[0]
        )
    if from_store and group:
        raise InvalidInput("--group does not apply to --from-store", field="group")


def _execute_from_store(request: Any) -> None:
    """Export the store's orders, run as for a file, then save every contact's result."""
    import dataclasses

    from lealta.bootstrap import build
    from lealta.cli.session import execute_rfm
    from lealta.segmentation.store import STORE_COLUMNS, orders_file, save_results

    services = build()
    saved: list[int] = []
    as_of: list[Any] = []

    def save(run: Any, clustering: Any) -> None:
        as_of.append(run.as_of)
        frame = run.to_pandas()
        if clustering is not None:
            frame = frame.merge(clustering.labels, on="customer_id", how="left")
        with services.uow.transaction() as session:
            saved.append(
                save_results(session, frame, as_of=run.as_of, computed_at=services.clock.now())
            )

    with orders_file(services) as path:
        execute_rfm(
            dataclasses.replace(request, file=path, columns=dict(STORE_COLUMNS), on_finished=save)
        )
        if not request.quiet:
            typer.echo(f"saved the RFM of {saved[0]:,} contacts (contact_rfm)", err=True)
        _review_loyalty(services, request, as_of=as_of[0], orders=path)


def _review_loyalty(services: Any, request: Any, *, as_of: Any, orders: Path) -> None:
    """A loyalty programme in force is applied after the scores are saved, as after every
    RFM computation from the store (``rfm_from_store``), from the orders the run read."""
    from lealta.loyalty.service import after_rfm

    options = {"bins": request.options.bins, "payment": request.options.payment}
    review = after_rfm(services, as_of=as_of, options=options, orders=orders)
    if review is not None and not request.quiet:
        tiers = ", ".join(f"{name} {count:,}" for name, count in review.tiers.items())
        typer.echo(
            f"loyalty tiers reviewed: {tiers or 'nobody in a tier'} "
            f"({review.upgraded:,} up, {review.downgraded:,} down)",
            err=True,
        )
