"""``lealta clv``: predicted purchases, churn and customer value from an order export."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from lealta.cli import params as p
from lealta.cli.errors import friendly
from lealta.cli.options import parse_date
from lealta.cli.params import DEFINITION, MAPPING, OUTPUT
from lealta.cli.rfm import OrderFileOrStore
from lealta.errors import InvalidInput

MODEL = "Model"
DEFAULT_CANCEL_PATTERN = r"^[Cc][0-9]"


class PeriodName(StrEnum):
    day = "day"
    week = "week"


@friendly
def clv_command(
    file: OrderFileOrStore = None,
    from_store: bool = typer.Option(
        False,
        "--from-store",
        help="Predict for the orders in Lealta's database (LEALTA_DATABASE_URL) instead of a "
        "file; the customer is the contact.",
        rich_help_panel=DEFINITION,
    ),
    save: bool = typer.Option(
        False,
        "--save",
        help="With --from-store: replace every contact's saved prediction (contact_predictions: "
        "P(alive), expected purchases and spend, CLV, churn band), read by contact search, "
        "conditions and templates; a fall below --alert-below records 'Churn Risk Rose'.",
        rich_help_panel=OUTPUT,
    ),
    alert_below: float = typer.Option(
        0.3,
        "--alert-below",
        help="With --save: the P(alive) under which a contact's fall records 'Churn Risk Rose'.",
        rich_help_panel=OUTPUT,
    ),
    customer: p.Customer = None,
    date: p.Date = None,
    order: p.Order = None,
    amount: p.Amount = None,
    quantity: p.Quantity = None,
    price: p.Price = None,
    date_format: str | None = typer.Option(
        None, help="strftime format of the dates, e.g. %d/%m/%Y.", rich_help_panel=MAPPING
    ),
    encoding: p.Encoding = "utf-8",
    decimal_comma: bool = typer.Option(
        False, help="Numbers are written 1.234,56 (decimal comma).", rich_help_panel=MAPPING
    ),
    cancel_pattern: str | None = typer.Option(
        None,
        help="Regex on the order id marking cancellations ('' to disable). "
        "Default: ^[Cc][0-9] for files, none with --from-store.",
        rich_help_panel=DEFINITION,
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Last day observed, YYYY-MM-DD (inclusive); later orders are left out. "
        "Default: the day of the last order.",
        rich_help_panel=DEFINITION,
    ),
    period: PeriodName = typer.Option(
        PeriodName.week,
        help="The models' time unit: recency and T are counted in it.",
        rich_help_panel=MODEL,
    ),
    horizon: str = typer.Option(
        "90d",
        help="How far ahead to predict: days (90, 90d), weeks (13w), 30-day months (3m), "
        "years (1y).",
        rich_help_panel=MODEL,
    ),
    discount: float = typer.Option(
        0.0,
        help="Annual discount rate of the lifetime value, e.g. 0.1 for 10 % a year.",
        rich_help_panel=MODEL,
    ),
    holdout: str | None = typer.Option(
        None,
        help="Validate: hold out the last span (39w) or everything after a date (1997-09-30), "
        "fit on the rest, and compare predicted with actual purchases.",
        rich_help_panel=MODEL,
    ),
    params: Path | None = typer.Option(
        None,
        "--params",
        help="Score with these fitted parameters (JSON from --params-output) without refitting.",
        rich_help_panel=MODEL,
    ),
    params_output: Path | None = typer.Option(
        None,
        "--params-output",
        help='Write the fitted parameters as JSON: {"bgnbd": {"r", "alpha", "a", "b"}, '
        '"gamma_gamma": {"p", "q", "gamma"}}.',
        rich_help_panel=OUTPUT,
    ),
    output: p.Output = None,
    report: p.Report = None,
    quiet: p.Quiet = False,
) -> None:
    """Predict who is still a customer, what they will buy and what they are worth.

    Reads and cleans an order export as `lealta rfm` does, summarises each customer in the
    models' terms (repeat purchases, age at last purchase, age, mean repeat spend), fits the
    BG/NBD model (purchases and churn) and the Gamma-Gamma model (spend) with pymc-marketing,
    and scores every customer: P(alive), expected purchases over --horizon, expected spend,
    lifetime value over --horizon discounted at --discount, and a churn-risk band.
    Needs the clv extra: pip install 'lealta\\[clv]'.
    """
    from lealta.prediction.models import read_params
    from lealta.prediction.options import CLVOptions, parse_holdout, parse_span
    from lealta.prediction.pipeline import Reading

    options = CLVOptions(
        as_of=parse_date(as_of, "--as-of"),
        period=period.value,
        horizon_days=parse_span(horizon, "horizon"),
        discount=discount,
        holdout=parse_holdout(holdout),
    )
    columns = p.column_roles(
        customer=customer, date=date, order=order, amount=amount, quantity=quantity, price=price
    )
    given = read_params(params) if params else None
    outputs = (params_output, output, report, quiet)
    if from_store:
        _check_store_source(file, columns)
        saving = (alert_below,) if save else None
        _execute_from_store(options, given, date_format, cancel_pattern, outputs, saving)
        return
    if save:
        raise InvalidInput("--save writes to the store: it needs --from-store", field="save")
    if file is None:
        raise InvalidInput("missing the order FILE (or --from-store)", field="file")
    reading = Reading(
        columns=columns,
        date_format=date_format,
        cancel_pattern=DEFAULT_CANCEL_PATTERN if cancel_pattern is None else cancel_pattern,
        decimal_comma=decimal_comma,
        encoding=encoding,
    )
    execute(file, options, reading, given, *outputs)


def _check_store_source(file: Path | None, columns: dict[str, str | None]) -> None:
    if file is not None:
        raise InvalidInput("give an order FILE or --from-store, not both", field="file")
    if given := [role for role, col in columns.items() if col]:
        raise InvalidInput(
            f"column options ({', '.join(given)}) do not apply to --from-store", field=given[0]
        )


def _execute_from_store(
    options: Any,
    given: Any,
    date_format: str | None,
    cancel: str | None,
    outputs: tuple[Path | None, Path | None, Path | None, bool],
    saving: tuple[float] | None = None,
) -> None:
    """Export the store's orders to a temporary file and predict from it; with ``saving``
    (the alert threshold), save every contact's prediction to the store."""
    from lealta.bootstrap import build
    from lealta.prediction.pipeline import Reading
    from lealta.prediction.store import check_threshold, params_version, save_predictions
    from lealta.segmentation.store import STORE_COLUMNS, orders_file

    alert = check_threshold(saving[0]) if saving else None

    reading = Reading(
        columns=dict(STORE_COLUMNS), date_format=date_format, cancel_pattern=cancel or ""
    )
    services = build()
    try:
        with orders_file(services) as path:
            run = execute(path, options, reading, given, *outputs, source="orders in the store")
        if alert is not None:
            with services.uow.transaction() as session:
                saved = save_predictions(
                    session,
                    run.customers,
                    horizon_days=options.horizon_days,
                    version=params_version(run.params),
                    now=services.clock.now(),
                    alert_below=alert,
                )
            if not outputs[3]:
                typer.echo(
                    f"Saved {saved.contacts:,} contacts' predictions; "
                    f"{saved.risen:,} fell below P(alive) {alert}"
                )
    finally:  # the store's connections are closed here, not left to the garbage collector
        services.uow.engine.dispose()
        if services.inbox is not services.uow:
            services.inbox.engine.dispose()


def execute(
    file: Path,
    options: Any,
    reading: Any,
    given: Any,
    params_output: Path | None,
    output: Path | None,
    report: Path | None,
    quiet: bool,
    source: str | None = None,
) -> Any:
    """Run, write the outputs and print the summary; returns the run."""
    from rich.console import Console

    from lealta.cli.clv_render import print_clv
    from lealta.engines import connect
    from lealta.prediction.models import write_params
    from lealta.prediction.pipeline import run_clv

    console = Console(stderr=True, quiet=quiet)
    source = source or file.name
    started = time.perf_counter()
    _check_output(output)
    with console.status("Reading orders, fitting the models and scoring customers…"):
        run = run_clv(connect("duckdb"), file, options=options, reading=reading, params=given)
    written: dict[str, Path] = {}
    if params_output:
        params_output.parent.mkdir(parents=True, exist_ok=True)
        write_params(run.params, params_output)
        written["parameters"] = params_output
    if output:
        write_customers(run.customers, output)
        written["customers"] = output
    if report:
        from lealta.report.prediction import render_clv_report

        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render_clv_report(run, source=source), encoding="utf-8")
        written["report"] = report
    if not quiet:
        print_clv(Console(), run, source, written, time.perf_counter() - started)
    return run


TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".json", ".jsonl")


def _check_output(path: Path | None) -> None:
    if path is not None and not path.name.endswith(TABLE_SUFFIXES):
        raise InvalidInput(
            f"{path}: cannot write {path.suffix or 'a file without extension'}; "
            f"use one of {', '.join(TABLE_SUFFIXES)}",
            field="output",
        )


def write_customers(frame: Any, path: Path) -> None:
    """The per-customer table, by the extension of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif path.name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    elif path.name.endswith(".json"):
        frame.to_json(path, orient="records", date_format="iso", indent=1)
    else:
        frame.to_csv(path, index=False)
