"""Predicted value per group of customers: per RFM segment and per loyalty tier.

Read set-wise from ``contact_predictions`` joined to ``contact_rfm`` (segment) or
``contact_tiers`` (tier) in one grouped query. Per group, of the customers with a prediction:

- ``customers``: how many;
- ``total_clv`` / ``mean_clv``: their predicted value over the run's horizon, summed / averaged;
- ``mean_p_alive``: the average probability of still being a customer of those with a repeat
  purchase; ``None`` when every one bought only once;
- ``one_time``: how many bought only once (churn band ``new``), and ``one_time_share`` of
  ``customers``. BG/NBD takes a customer without a repeat purchase as alive (P(alive) is 1:
  the model lets customers churn only right after a purchase), which says nothing about them,
  so they are left out of ``mean_p_alive`` and counted apart;
- ``at_risk``: how many are in the ``high`` churn-risk band (P(alive) under 0.3, see
  :mod:`lealta.prediction.bands`), and ``at_risk_share`` of ``customers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lealta.prediction.bands import HIGH_BELOW
from lealta.prediction.tables import ContactPrediction

AT_RISK = "high"
ONE_TIME = "new"  # the churn band of customers with one purchase only
Grouping = Literal["segment", "tier"]


@dataclass(frozen=True)
class GroupValue:
    """The predicted value of one group's customers (see the module docstring)."""

    name: str
    customers: int
    total_clv: float
    mean_p_alive: float | None
    at_risk: int
    one_time: int = 0

    @property
    def mean_clv(self) -> float:
        return self.total_clv / self.customers if self.customers else 0.0

    @property
    def at_risk_share(self) -> float:
        return self.at_risk / self.customers if self.customers else 0.0

    @property
    def one_time_share(self) -> float:
        return self.one_time / self.customers if self.customers else 0.0


@dataclass(frozen=True)
class ValueBreakdown:
    """Groups by name; ``predicted``: contacts with a prediction at all (0: no run yet);
    ``horizon_days`` and ``computed_at`` of the latest run."""

    groups: dict[str, GroupValue]
    predicted: int
    horizon_days: int | None
    computed_at: dt.datetime | None
    at_risk_below: float = HIGH_BELOW


def predictions_stamp(session: Session) -> Hashable:
    """What changes whenever the figures may: a run rewrites every row with its time, an
    erasure or a merge removes one."""
    latest = session.scalar(select(ContactPrediction.computed_at).limit(1))
    held = session.scalar(select(func.count()).select_from(ContactPrediction))
    return (latest.isoformat() if latest else None, int(held or 0))


def value_by(session: Session, by: Grouping) -> ValueBreakdown:
    """Predicted value per RFM segment (``by="segment"``) or loyalty tier (``"tier"``)."""
    key, group = _grouping(by)
    band = ContactPrediction.churn_band
    high = func.sum(case((band == AT_RISK, 1), else_=0))
    one_time = func.sum(case((band == ONE_TIME, 1), else_=0))
    repeat_p_alive = func.avg(case((band != ONE_TIME, ContactPrediction.p_alive), else_=None))
    query = (
        select(group, func.count(), func.sum(ContactPrediction.clv), repeat_p_alive, high, one_time)
        .join(ContactPrediction, ContactPrediction.contact_id == key)
        .group_by(group)
    )
    groups = {
        str(name): GroupValue(
            str(name),
            int(n),
            float(total or 0),
            None if p is None else float(p),
            int(risk or 0),
            int(once or 0),
        )
        for name, n, total, p, risk, once in session.execute(query)
    }
    run = session.execute(
        select(ContactPrediction.horizon_days, ContactPrediction.computed_at).limit(1)
    ).first()
    predicted = session.scalar(select(func.count()).select_from(ContactPrediction)) if run else 0
    return ValueBreakdown(
        groups,
        int(predicted or 0),
        run.horizon_days if run else None,
        run.computed_at if run else None,
    )


def _grouping(by: Grouping) -> tuple[Any, Any]:
    """The contact id and group columns of ``by``'s table."""
    if by == "segment":
        from lealta.segmentation.tables import ContactRfm

        return ContactRfm.contact_id, ContactRfm.segment
    from lealta.loyalty.tables import ContactTier

    return ContactTier.contact_id, ContactTier.tier
