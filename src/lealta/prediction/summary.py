"""The models' per-customer summary from cleaned order rows, as ibis expressions.

Definitions (Fader, Hardie & Lee 2005; pymc-marketing's ``rfm_summary``):

- a **purchase** is a calendar day with at least one usable order row of the customer (several
  orders on one day are one purchase, their amounts added up). A row with amount 0 is a
  purchase worth 0 (the models count transactions); negative or unreadable amounts are not.
- ``frequency``: repeat purchases, the purchases after the first one, up to the calibration end;
- ``recency``: the customer's age at the last purchase, days from the first purchase to the
  last one, in periods (0 without a repeat purchase);
- ``T``: the customer's age, days from the first purchase to the calibration end (inclusive
  last day), in periods;
- ``monetary_value``: the mean spend of the repeat purchases (the first one left out), 0
  without a repeat purchase;
- ``holdout_purchases`` / ``holdout_spend``: purchases and spend after the calibration end, up
  to the last day observed.

Customers whose first purchase comes after the calibration end are left out: the models
describe customers already acquired.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.orders.cleaning import REASON_CODES

ZERO_AMOUNT = REASON_CODES["non_positive_amount"]


def zero_amounts_kept(rows: Any) -> Any:
    """Cleaned rows where a row of amount exactly 0 is usable (a purchase worth 0)."""
    import ibis

    zero = (rows.reason == ZERO_AMOUNT) & (rows.amount == 0)
    return rows.mutate(reason=ibis.cases((zero, ibis.null("int8")), else_=rows.reason))


def purchase_days(rows: Any) -> Any:
    """One row per customer and day with a purchase: ``customer_id``, ``day``, ``spend``."""
    return usable_days(day_rows(rows))


def day_rows(rows: Any) -> Any:
    """Cleaned rows per customer, day and reason (null: usable): ``spend`` and ``rows``.

    One pass over the orders gives both the purchase days (:func:`usable_days`) and the
    cleaning report's counts (the ``rows`` per reason), as RFM's aggregation does.
    """
    return rows.group_by(["customer_id", rows.ts.date().name("day"), "reason"]).aggregate(
        spend=rows.amount.sum(), rows=rows.count()
    )


def usable_days(by_day: Any) -> Any:
    """The purchase days of :func:`day_rows`: ``customer_id``, ``day``, ``spend``."""
    kept = by_day.filter(by_day.reason.isnull())
    return kept.select("customer_id", "day", "spend")


def customer_summary(days: Any, *, calibration_end: dt.date, period_days: int) -> Any:
    """Per customer: ``frequency``, ``recency``, ``T``, ``monetary_value`` and holdout figures.

    ``days`` is :func:`purchase_days`; rows after the calibration end count in the holdout.
    """
    import ibis

    end = ibis.date(calibration_end)
    cal = days.day <= end
    per = days.group_by("customer_id").aggregate(
        first_day=days.day.min(),
        last_day=days.day.max(where=cal),
        purchases=cal.cast("int64").sum(),
        spend=days.spend.sum(where=cal),
        first_spend=days.spend.argmin(days.day),
        holdout_purchases=(~cal).cast("int64").sum(),
        holdout_spend=days.spend.sum(where=~cal).fill_null(0.0),
    )
    per = per.filter(per.first_day <= end)
    frequency = (per.purchases - 1).cast("int64")
    width = float(period_days)
    repeat_spend = (per.spend - per.first_spend).cast("float64")
    return per.select(
        "customer_id",
        frequency=frequency,
        recency=per.last_day.delta(per.first_day, unit="day").cast("float64") / width,
        T=end.delta(per.first_day, unit="day").cast("float64") / width,
        monetary_value=ibis.cases(
            (frequency > 0, repeat_spend / frequency.cast("float64")), else_=0.0
        ),
        first_purchase=per.first_day,
        last_purchase=per.last_day,
        holdout_purchases=per.holdout_purchases.cast("int64"),
        holdout_spend=per.holdout_spend.cast("float64"),
    )


def cumulative_repeat_purchases(days: Any, *, first: dt.date, period_days: int) -> Any:
    """Repeat purchases of all customers per period since ``first`` (the tracking curve).

    A customer's first purchase is not a repeat purchase; period ``k`` (from 1) covers days
    ``first + (k-1)·period_days`` to ``first + k·period_days - 1``.
    """
    import ibis

    firsts = days.group_by("customer_id").aggregate(first_day=days.day.min())
    joined = days.join(firsts, "customer_id")
    repeat = joined.filter(joined.day > joined.first_day)
    index = (repeat.day.delta(ibis.date(first), unit="day") // period_days + 1).cast("int64")
    return repeat.group_by(index.name("period")).aggregate(repeat_purchases=repeat.count())
