"""``lealta demo-data``: write a seeded synthetic shop's order export."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from lealta.errors import InvalidInput

if TYPE_CHECKING:
    from lealta.demo.shop import DemoShop

DEFAULT_CUSTOMERS = 5000
_DAY = ["%Y-%m-%d"]


def demo_data(
    path: Path = typer.Argument(
        ...,
        dir_okay=False,
        help="File to write. Its extension picks the format: .csv, .csv.gz, .parquet, .xlsx "
        "(at most 1,048,575 orders) or .jsonl.",
    ),
    customers: int | None = typer.Option(
        None,
        "--customers",
        help="Number of customers, with about 10 orders each on average. "
        f"Default: {DEFAULT_CUSTOMERS} unless --orders is given.",
    ),
    orders: int | None = typer.Option(
        None, "--orders", help="Exact number of orders, placed by about one customer per 10."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed: same seed and size, same file."),
    start: datetime = typer.Option(
        datetime(2024, 1, 1),
        "--start",
        formats=_DAY,
        metavar="DATE",
        show_default=False,
        help="First possible order day, YYYY-MM-DD. Default: 2024-01-01.",
    ),
    end: datetime = typer.Option(
        datetime(2025, 12, 31),
        "--end",
        formats=_DAY,
        metavar="DATE",
        show_default=False,
        help="Last possible order day, YYYY-MM-DD. Default: 2025-12-31.",
    ),
    lines: bool = typer.Option(
        False,
        "--lines",
        help="One row per order line (product_id, product_name, category, quantity, price, "
        "amount; the order's columns repeated) instead of one per order: baskets for "
        "`lealta affinity`. `lealta rfm` reads it too (an order's lines add up to its amount).",
    ),
) -> None:
    """Write a realistic synthetic shop's order export, for demos, tests and benchmarks.

    One row per order: customer, e-mail, names, date, amount, items, category, channel, payment.
    With --lines, one row per product in an order (about 1.5 per order), for product affinity.

    Its customers mix one-time, occasional, loyal, big-spending, lapsed and brand-new buyers.

    Sales peak on Black Friday and at Christmas; some invoices are paid late or not at all.

    The same seed and size give the same file. Ten million orders take well under a minute.

    Example: lealta demo-data orders.parquet --orders 1000000
    """
    first, last = start.date(), end.date()
    customers = _checked(customers, orders, seed, first, last)
    from lealta.demo.shop import check_target, plan_shop

    began = time.perf_counter()
    try:
        check_target(path)
        shop = plan_shop(customers=customers, orders=orders, seed=seed, start=first, end=last)
        check_target(path, shop.orders)
        rows = _write_with_progress(path, shop, lines)
    except InvalidInput as exc:
        _fail(str(exc))
    except OSError as exc:
        typer.echo(f"Error: cannot write {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    seconds = time.perf_counter() - began
    shape = ", one row per order line," if lines else ""
    typer.echo(
        f"Wrote {rows:,} orders of {shop.customers:,} customers{shape} to {path} "
        f"({_size(path.stat().st_size)}) in {seconds:.1f} s"
    )


def _checked(
    customers: int | None, orders: int | None, seed: int, start: date, end: date
) -> int | None:
    """The number of customers to plan for, or a clear error for inconsistent options."""
    if customers is not None and orders is not None:
        _fail("give either --customers or --orders, not both")
    for flag, value in (("--customers", customers), ("--orders", orders)):
        if value is not None and value < 1:
            _fail(f"{flag} must be a positive number, got {value}")
    if seed < 0:
        _fail(f"--seed must not be negative, got {seed}")
    if start > end:
        _fail(f"--start {start} is after --end {end}")
    return DEFAULT_CUSTOMERS if customers is None and orders is None else customers


def _write_with_progress(path: Path, shop: DemoShop, lines: bool) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from lealta.demo.shop import write_shop

    columns = (TextColumn("Writing {task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(path.name, total=shop.orders)
        return write_shop(
            path, shop, progress=lambda orders: bar.advance(task, orders), lines=lines
        )


def _size(count: int) -> str:
    """``count`` bytes for people: 950 bytes, 12.3 kB, 4.5 MB, 1.2 GB."""
    if count < 1000:
        return f"{count} bytes"
    value = count / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} GB"


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)
