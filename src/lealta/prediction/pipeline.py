"""From order data to fitted models and per-customer predictions, on an engine.

The orders are read, columns detected and rows cleaned exactly as for RFM
(:mod:`lealta.orders`); the per-customer summary is computed in the engine, and the small
summary (one row per customer) goes to the models (:mod:`lealta.prediction.models`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lealta.engines import Engine
from lealta.errors import InvalidInput
from lealta.orders.cleaning import clean, detect_date_format
from lealta.orders.columns import Detection, detect_columns
from lealta.orders.sources import Source, collect_malformed, open_source
from lealta.prediction import models, summary
from lealta.prediction.holdout import HoldoutCheck, compare, tracking_curve
from lealta.prediction.options import CLVOptions
from lealta.segmentation.options import RFMOptions
from lealta.segmentation.pipeline import CleaningReport
from lealta.segmentation.pipeline import _cleaning_report as cleaning_report


@dataclass(frozen=True)
class Reading:
    """How orders are read: columns, date format, cancellations, decimal comma, encoding."""

    columns: dict[str, str | None] = field(default_factory=dict)
    date_format: str | None = None
    cancel_pattern: str = r"^[Cc][0-9]"
    decimal_comma: bool = False
    encoding: str = "utf-8"


@dataclass
class CLVRun:
    """What one prediction run produced; ``customers`` is a pandas DataFrame."""

    options: CLVOptions
    detection: Detection
    cleaning: CleaningReport
    as_of: dt.date
    calibration_end: dt.date
    params: Params
    fitted: bool
    customers: Any
    holdout: HoldoutCheck | None = None
    notes: list[str] = field(default_factory=list)


Params = models.Params


def run_clv(
    engine: Engine,
    data: Any,
    *,
    options: CLVOptions | None = None,
    reading: Reading | None = None,
    params: Params | None = None,
) -> CLVRun:
    """Summarise, fit (unless ``params`` are given) and score the customers in ``data``."""
    options = options or CLVOptions()
    reading = reading or Reading()
    source = open_source(engine, data, encoding=reading.encoding)
    detection = detect_columns(source.columns, reading.columns)
    rows, notes = _clean_rows(engine, source, detection, options, reading)
    by_day = engine.materialize(summary.day_rows(rows))  # one pass: purchases and the report
    days = summary.usable_days(by_day)
    collect_malformed(engine, source)
    cleaning = cleaning_report(engine, by_day, source)
    if cleaning.rows_kept == 0:
        raise InvalidInput(
            f"none of the {cleaning.rows_read:,} rows is a usable purchase", field="file"
        )
    as_of = options.as_of or _to_date(engine.scalar(days.day.max()))
    end = options.calibration_end(as_of)
    per_customer = engine.execute(
        summary.customer_summary(days, calibration_end=end, period_days=options.period_days)
    )
    per_customer = per_customer.sort_values("customer_id", kind="stable").reset_index(drop=True)
    if per_customer.empty:
        raise InvalidInput(f"no customer bought on or before {end}", field="holdout")
    fitted = params is None
    params = params or models.fit(per_customer)
    scored = models.score(
        per_customer,
        params,
        period_days=options.period_days,
        horizon_days=options.horizon_days,
        discount=options.discount,
    )
    check = None
    if options.holdout is not None:
        held = (as_of - end).days
        tracking = _tracking(engine, days, scored, params, options, as_of)
        scored["holdout_predicted"] = check_predicted(scored, params, options, held)
        check = compare(scored, scored["holdout_predicted"], held, tracking)
    else:
        scored = scored.drop(columns=["holdout_purchases", "holdout_spend"])
    return CLVRun(options, detection, cleaning, as_of, end, params, fitted, scored, check, notes)


def check_predicted(scored: Any, params: Params, options: CLVOptions, holdout_days: int) -> Any:
    """Each customer's expected purchases over the holdout, from the calibration fit."""
    over = models.score(
        scored, params, period_days=options.period_days, horizon_days=holdout_days, discount=0.0
    )
    return over["expected_purchases"].to_numpy()


def _tracking(
    engine: Engine, days: Any, scored: Any, params: Params, options: CLVOptions, as_of: dt.date
) -> Any:
    """The tracking curve (cumulative repeat purchases per period) over calibration and holdout."""
    first = min(scored["first_purchase"])
    first = _to_date(first)
    width = options.period_days
    actual = engine.execute(
        summary.cumulative_repeat_purchases(days, first=first, period_days=width)
    )
    offsets = (scored["first_purchase"].map(_to_date) - first).map(lambda d: d.days / width)
    cohort = offsets.value_counts().sort_index()
    periods = -(-((as_of - first).days + 1) // width)
    return tracking_curve(
        actual,
        cohort,
        lambda ages: models.expected_new_customer_purchases(params, ages),
        periods,
    )


def _clean_rows(
    engine: Engine, source: Source, detection: Detection, options: CLVOptions, reading: Reading
) -> tuple[Any, list[str]]:
    cols = detection.columns
    rfm_options = RFMOptions(
        as_of=options.as_of,
        date_format=reading.date_format,
        cancel_pattern=reading.cancel_pattern,
        decimal_comma=reading.decimal_comma,
        as_of_inclusive=True,
        purchase="day",
    )
    notes: list[str] = []
    fmt = reading.date_format
    if fmt is None:
        fmt, notes = detect_date_format(engine, source, cols.date)
    rows = clean(engine, source, cols, rfm_options, date_format=fmt, as_of=options.as_of)
    return summary.zero_amounts_kept(rows), notes


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date"):
        return value.date()  # type: ignore[no-any-return]
    return dt.date.fromisoformat(str(value)[:10])
