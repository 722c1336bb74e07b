"""``lealta loyalty``: check a loyalty programme and assign its tiers to an order file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from lealta.cli import params as p
from lealta.cli.errors import friendly
from lealta.cli.options import parse_date, parse_ranking, parse_window
from lealta.cli.params import DEFINITION, MAPPING, OUTPUT
from lealta.cli.rfm import DEFAULT_CANCEL_PATTERN, MonetaryKind, PurchaseUnit

loyalty_app = typer.Typer(
    help="Loyalty programme: status tiers and benefits driven by RFM.", no_args_is_help=True
)

ProgramFile = typer.Option(
    ...,
    "--program",
    help="The programme, YAML or JSON (see `lealta loyalty schema`).",
    show_default=False,
)


@loyalty_app.command("schema")
@friendly
def schema_command() -> None:
    """Print the JSON Schema of loyalty programmes."""
    from lealta.loyalty.program import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@loyalty_app.command("check")
@friendly
def check_command(
    program: Path = typer.Argument(..., help="The programme file, YAML or JSON."),
) -> None:
    """Validate a programme file: each problem is named by its place (tier, rule, field)."""
    loaded = _load(program)
    typer.echo(
        f"{program}: programme {loaded.name!r} is valid: {len(loaded.tiers)} tiers "
        f"({', '.join(loaded.tier_names())}), scores {loaded.dimensions.upper()} with "
        f"{loaded.best} = best"
    )


@loyalty_app.command("assign")
@friendly
def assign_command(
    file: p.OrderFile,
    program: Path = ProgramFile,
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
    date_format: str | None = typer.Option(
        None, "--date-format", help="strftime format of the dates.", rich_help_panel=MAPPING
    ),
    encoding: p.Encoding = "utf-8",
    decimal_comma: bool = typer.Option(
        False, help="Numbers are written 1.234,56 (decimal comma).", rich_help_panel=MAPPING
    ),
    as_of: p.AsOf = None,
    window: str | None = typer.Option(
        None,
        "--window",
        help="Only the last N days count for the RFM scores (365, 52w, 12m, 1y); the "
        "programme's orders and spend rules use their own windows.",
        rich_help_panel=DEFINITION,
    ),
    purchase: PurchaseUnit = typer.Option(
        PurchaseUnit.order, help="What one purchase (order) is.", rich_help_panel=DEFINITION
    ),
    monetary: MonetaryKind = typer.Option(
        MonetaryKind.sum,
        help="M scores total spent (sum) or average purchase value (mean).",
        rich_help_panel=DEFINITION,
    ),
    payment: p.Payment = None,
    payment_ranking: p.PaymentRanking = None,
    cancel_pattern: str = typer.Option(
        DEFAULT_CANCEL_PATTERN,
        help="Regex on the order id marking cancellations ('' to disable).",
        rich_help_panel=DEFINITION,
    ),
    points: Path | None = typer.Option(
        None,
        "--points",
        help="Status points per customer (CSV, Parquet, Excel, JSON: customer_id and points, "
        "or points_365d … per window), for a programme with points rules: an order file "
        "holds no points ledger.",
        rich_help_panel=MAPPING,
        show_default=False,
    ),
    output: p.Output = None,
    summary_output: Path | None = typer.Option(
        None, "--summary-output", help="Per-tier summary (.csv, .json).", rich_help_panel=OUTPUT
    ),
    engine: p.Engine = p.EngineName.duckdb,
    quiet: p.Quiet = False,
) -> None:
    """Give every customer of an order file their tier, score sum and progress.

    Reads the order file as `lealta rfm` does, scores R, F, M (and P for an RFMP programme)
    with the programme's levels, and assigns tiers: one row per customer with the scores and
    score sum in the programme's convention, the tier, the rule that qualified them and the
    progress to the next tier. Prints customers and revenue per tier.

    A programme with points rules reads each customer's status points from --points FILE
    (without it the command refuses, naming the rule).
    """
    from lealta.errors import InvalidInput
    from lealta.loyalty.points_file import needs_points
    from lealta.segmentation.options import RFMOptions

    loaded = _load(program)
    needs_points(loaded, points)
    if loaded.dimensions == "rfmp" and payment is None:
        raise InvalidInput(
            "the programme scores RFMP: give --payment promptness or --payment method",
            field="payment",
        )
    options = RFMOptions(
        as_of=parse_date(as_of, "--as-of"),
        window_days=parse_window(window),
        purchase=purchase.value,
        monetary=monetary.value,
        bins=loaded.levels,
        payment=payment.value if payment and loaded.dimensions == "rfmp" else None,
        method_ranking=parse_ranking(payment_ranking),
        date_format=date_format,
        cancel_pattern=cancel_pattern,
        decimal_comma=decimal_comma,
    )
    columns = p.column_roles(
        customer=customer, date=date, order=order, amount=amount, quantity=quantity,
        price=price, payment_method=payment_method, due_date=due_date, paid_date=paid_date,
        days_to_pay=days_to_pay,
    )  # fmt: skip
    _assign(
        file, loaded, options, columns, encoding, engine.value, output, summary_output, quiet,
        points,
    )  # fmt: skip


def _load(path: Path) -> Any:
    from lealta.errors import UnreadableFile
    from lealta.loyalty.program import load_program

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"cannot read the programme {path}: {exc}", field="program") from None
    return load_program(text)


def _assign(
    file: Path,
    program: Any,
    options: Any,
    columns: dict[str, str | None],
    encoding: str,
    engine_name: str,
    output: Path | None,
    summary_output: Path | None,
    quiet: bool,
    points: Path | None = None,
) -> None:
    from rich.console import Console

    from lealta.cli.progress import working
    from lealta.engines import connect
    from lealta.loyalty.assign import assign_tiers
    from lealta.loyalty.facts import customer_facts
    from lealta.loyalty.points_file import attach_points, read_points
    from lealta.loyalty.summary import tier_summary
    from lealta.segmentation.outputs import write_table
    from lealta.segmentation.pipeline import run_rfm

    console = Console(stderr=True, quiet=quiet)
    started = time.perf_counter()
    engine = connect(engine_name)
    with working(console, engine, "Reading, cleaning and scoring orders"):
        run = run_rfm(engine, file, options=options, columns=columns, encoding=encoding)
    facts = customer_facts(run, program)
    if points is not None:
        with working(console, engine, "Reading status points"):
            facts = attach_points(
                facts, read_points(engine, points, program, encoding=encoding), program
            )
    with working(console, engine, "Assigning tiers"):
        assigned = engine.materialize(assign_tiers(facts, program))
        summary = tier_summary(engine, assigned, program)
    if output:
        with working(console, engine, "Writing tiers"):
            write_table(run, _output_table(assigned, program), output)
    if summary_output:
        _write_summary(summary, summary_output)
    if not quiet:
        _print(Console(), run, program, summary, output, time.perf_counter() - started)


def _output_table(assigned: Any, program: Any) -> Any:
    from lealta.loyalty.facts import orders_column, points_column, spend_column

    first = ["customer_id", *(c for c in ("email", "name") if c in assigned.columns)]
    scores = [*program.dimension_names, "score_sum"]
    verdict = ["tier", "qualified_by", "next_tier", "orders_to_next", "spend_to_next"]
    if program.points_windows():
        verdict.append("points_to_next")
    facts = [
        *("progress", "eligible", "tier_rank", "revenue"),
        *(col for d in program.windows() for col in (orders_column(d), spend_column(d))),
        *(points_column(d) for d in program.points_windows()),
    ]
    return assigned.select(*first, *scores, *verdict, *facts).order_by("customer_id")


def _write_summary(summary: Any, path: Path) -> None:
    from lealta.errors import InvalidInput

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        summary.to_json(path, orient="records", indent=1)
    elif path.suffix == ".csv":
        summary.to_csv(path, index=False)
    else:
        raise InvalidInput(f"{path}: write the summary as .csv or .json", field="summary_output")


def _print(console: Any, run: Any, program: Any, summary: Any, output: Any, secs: float) -> None:
    from rich.table import Table

    from lealta.loyalty.wording import money

    console.print(
        f"[bold]{Path(run.source.name).name}[/]: {run.cleaning.rows_kept:,} purchase rows "
        f"as of {run.as_of:%Y-%m-%d}; programme [bold]{program.name}[/] "
        f"({program.dimensions.upper()}, {program.best} = best)"
    )
    for note in run.notes:
        console.print(f"[yellow]note:[/] {note}")
    table = Table(title="Tiers", title_justify="left")
    for name in ("Tier", "Customers", "Share", "Revenue", "Revenue share"):
        table.add_column(name, justify="left" if name == "Tier" else "right")
    for row in summary.itertuples(index=False):
        table.add_row(
            str(row.tier),
            f"{row.customers:,}",
            f"{row.customer_share:.1%}",
            money(round(row.revenue), program.currency),
            f"{row.revenue_share:.1%}",
        )
    console.print(table)
    if output:
        console.print(f"wrote tiers: [bold]{output}[/]")
    console.print(f"[dim]{int(summary['customers'].sum()):,} customers in {secs:.1f} s[/]")


# -- the programme and tiers in the store -----------------------------------------------------


@contextmanager
def _services() -> Iterator[Any]:
    """The services of the process's settings; their connections closed at the end."""
    from lealta.bootstrap import build

    services = build()
    try:
        yield services
    finally:
        services.uow.engine.dispose()


def _stored_yaml() -> str:
    import yaml

    from lealta.loyalty import service
    from lealta.loyalty.program import dump

    with _services() as services, services.uow.transaction() as session:
        stored = service.require(session)
        saved = f"{stored.saved_at:%Y-%m-%d %H:%M}"
        header = f"# programme in force: version {stored.version}, saved {saved}\n"
        return header + yaml.safe_dump(dump(stored.program), sort_keys=False, allow_unicode=True)


@loyalty_app.command("show")
@friendly
def show_command() -> None:
    """Print the programme in force (as YAML, with its version)."""
    typer.echo(_stored_yaml(), nl=False)


@loyalty_app.command("export")
@friendly
def export_command(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the YAML here instead of to stdout."
    ),
) -> None:
    """Export the programme in force as YAML (`lealta loyalty import` reads it back)."""
    text = _stored_yaml()
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)


@loyalty_app.command("import")
@friendly
def import_command(
    program: Path = typer.Argument(..., help="The programme file, YAML or JSON."),
) -> None:
    """Validate a programme file and save it as the new version in force.

    Tiers are reviewed at the next `lealta loyalty apply` or RFM computation from the store.
    """
    from lealta.errors import UnreadableFile
    from lealta.loyalty import service

    try:
        text = program.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFile(
            f"cannot read the programme {program}: {exc}", field="program"
        ) from None
    with _services() as services, services.uow.transaction() as session:
        stored = service.save(session, text, now=services.clock.now())
    typer.echo(
        f"saved programme {stored.program.name!r} as version {stored.version}: "
        f"{', '.join(stored.program.tier_names())}"
    )


@loyalty_app.command("apply")
@friendly
def apply_command(quiet: p.Quiet = False) -> None:
    """Review every customer's tier now, from the stored RFM scores and orders."""
    from rich.console import Console
    from rich.table import Table

    from lealta.errors import NotFound
    from lealta.loyalty import service

    console = Console(stderr=True, quiet=quiet)

    def tell(fraction: float, step: str) -> None:
        console.print(f"[dim]{fraction:4.0%}[/] {step}")

    with _services() as services:
        review = service.apply_program(services, progress=tell)
    if review is None:
        raise NotFound(service.NO_PROGRAM)
    if quiet:
        return
    table = Table(title=f"Tiers (programme version {review.version})", title_justify="left")
    table.add_column("Tier")
    table.add_column("Customers", justify="right")
    for name, count in reversed(list(review.tiers.items())):
        table.add_row(name, f"{count:,}")
    out = Console()
    out.print(table)
    out.print(
        f"{review.customers:,} customers in a tier; {review.upgraded:,} up, "
        f"{review.downgraded:,} down, {review.at_risk:,} at risk; "
        f"windows end {review.as_of:%Y-%m-%d}; {review.seconds:.1f} s"
    )


@loyalty_app.command("identity-secret")
@friendly
def identity_secret_command(
    user_id: str | None = typer.Option(
        None, "--user-id", help="Also print the userHash of this user id (to check your code)."
    ),
) -> None:
    """Print the secret the shop's server signs user ids with, so that a page may read the
    visitor's own loyalty card with the public track key:
    userHash = hex(HMAC-SHA256(secret, userId)), sent as ?userId=…&userHash=…

    Keep it on the server: a page that knew it could read anyone's card. It is derived from
    LEALTA_SECRET_KEY and changes with it.
    """
    from lealta.config import get_settings
    from lealta.loyalty.visitors import identity_secret, user_hash

    secret = identity_secret(get_settings().secret_key)
    typer.echo(secret)
    if user_id is not None:
        typer.echo(f"userHash of {user_id!r}: {user_hash(secret, user_id)}", err=True)


from lealta.cli.loyalty_overrides import override_app  # noqa: E402  (it imports this module)

loyalty_app.add_typer(override_app, name="override")

from lealta.cli.loyalty_points import points_app  # noqa: E402

loyalty_app.add_typer(points_app, name="points")
