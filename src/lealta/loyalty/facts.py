"""Per-customer orders and spend in rolling windows, as ibis expressions (table in, table out).

The tiers' ``orders`` and ``spend`` rules read these columns; ``points`` rules read
``points_{d}d`` columns, from the ledger (:mod:`lealta.loyalty.status_points`).
:func:`lealta.loyalty.assign` documents the whole facts table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lealta.loyalty.program import LoyaltyProgram


def orders_column(days: int) -> str:
    """The facts column of orders in the last ``days`` days, e.g. ``orders_365d``."""
    return f"orders_{days}d"


def spend_column(days: int) -> str:
    """The facts column of spend in the last ``days`` days, e.g. ``spend_365d``."""
    return f"spend_{days}d"


def points_column(days: int) -> str:
    """The facts column of status points earned in the last ``days`` days, e.g.
    ``points_365d`` (see :mod:`lealta.loyalty.status_points`)."""
    return f"points_{days}d"


def window_facts(rows: Any, *, as_of: dt.date, windows: Iterable[int], purchase: Any | None) -> Any:
    """Per customer: ``revenue`` and, for each window of ``d`` days, orders and spend.

    Parameters
    ----------
    rows
        Usable purchase rows (ibis) with ``customer_id``, ``ts`` (timestamp) and ``amount``,
        all before ``as_of`` (the cleaning of :mod:`lealta.orders.cleaning` ensures it).
    as_of
        The day the windows end (excluded): a window of ``d`` days holds purchases from
        ``as_of - d`` days, midnight, to the end of the day before ``as_of``.
    windows
        Window lengths in days.
    purchase
        The expression identifying one purchase (see
        :func:`lealta.segmentation.metrics.purchase_key`); ``None`` counts rows.

    Returns
    -------
    ibis table
        ``customer_id``, ``revenue`` (all rows, rounded to cents), and per window
        ``orders_{d}d`` (distinct purchases, int64) and ``spend_{d}d`` (float64, cents).
    """
    import ibis

    aggs: dict[str, Any] = {"revenue": rows.amount.sum().round(2).cast("float64")}
    for days in sorted(set(windows)):
        start = dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time())
        inside = rows.ts >= ibis.timestamp(start)
        counted = rows.count(where=inside) if purchase is None else purchase.nunique(where=inside)
        aggs[orders_column(days)] = counted.cast("int64")
        aggs[spend_column(days)] = rows.amount.sum(where=inside).fill_null(0).round(2)
    return rows.group_by("customer_id").aggregate(**aggs)


def customer_facts(run: Any, program: LoyaltyProgram) -> Any:
    """The facts table of every customer of an RFM ``run``, for ``program``.

    Customers are everyone with a usable purchase before the run's as-of date, whatever the
    run's own ``--window``/``--since``: a customer outside the RFM window has no scores (so
    no score rule holds for them) but their orders and spend in the programme's windows
    still count. The run must score in Lealta's convention (5 = best) with the programme's
    levels.
    """
    from lealta.segmentation.joins import attach

    facts = purchase_facts(
        run.engine,
        run.source,
        run.detection.columns,
        run.options,
        program,
        date_format=run.date_format,
        as_of=run.as_of,
    )
    scores = [f"{dim}_score" for dim in program.dimension_names]
    details = [c for c in ("email", "name") if c in run.customers.columns]
    return attach(facts, run.customers, ["customer_id"], [*details, *scores])


def purchase_facts(
    engine: Any,
    source: Any,
    columns: Any,
    options: Any,
    program: LoyaltyProgram,
    *,
    date_format: str | None,
    as_of: dt.date,
    row_per_order: bool = False,
) -> Any:
    """:func:`window_facts` of the usable purchases of ``source`` (an order source read with
    ``columns``, cleaned by the rules of :mod:`lealta.orders.cleaning` under ``options``,
    their window and start date left out), for the windows of ``program``.

    ``row_per_order``: every row is a distinct order, as in the store's orders (each row an
    ``orders`` row, whose ``external_id`` is unique and never null), so the windows count
    rows. Same counts as distinct order ids, without hashing every id once per window (at a
    million customers, about a third of the assignment's DuckDB time).
    """
    from lealta.orders.cleaning import clean
    from lealta.segmentation.metrics import purchase_key

    options = options.with_(window_days=None, since=None)
    rows = clean(engine, source, columns, options, date_format=date_format, as_of=as_of)
    rows = rows.filter(rows.reason.isnull())
    key = None if row_per_order else purchase_key(rows, options, columns.order is not None)
    return window_facts(rows, as_of=as_of, windows=program.windows(), purchase=key)
