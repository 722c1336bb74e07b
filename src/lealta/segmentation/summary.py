"""What the latest RFM scoring says about each segment and cluster, read from ``contact_rfm``.

Every figure is one grouped query (never a contact at a time):

* customers: contacts scored in the segment; share: of all scored contacts;
* revenue: the sum of their monetary values (spend in the scoring window, as scored);
* orders: the sum of their frequencies; average order value: revenue / orders;
* mean R, F, M (and P, for RFMP) scores;
* the R x F grid: customers per recency and frequency score;
* cluster profiles: customers, mean recency days, orders and spend per cluster, with its name.

The overview's segment table and R x F grid are read from here too (one place per figure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.segmentation.tables import ContactRfm
from lealta.segmentation.wording import definitions, map_for


@dataclass(frozen=True)
class SegmentFigures:
    """One segment's customers and what they are worth."""

    segment: str
    customers: int
    share: float  # of scored customers, 0..1, four decimals
    revenue: float
    orders: int
    mean_r: float
    mean_f: float
    mean_m: float
    mean_p: float | None  # RFMP only

    @property
    def average_order_value(self) -> float | None:
        """Revenue per order; ``None`` without orders."""
        return round(self.revenue / self.orders, 2) if self.orders else None


@dataclass(frozen=True)
class ClusterProfile:
    """One K-Means cluster of the latest scoring."""

    cluster: int
    name: str
    customers: int
    share: float
    mean_recency_days: float
    mean_frequency: float
    mean_monetary: float


@dataclass(frozen=True)
class Scoring:
    """When the latest scoring was made: its as-of date and the time it was computed."""

    as_of: dt.datetime | None
    computed_at: dt.datetime | None
    customers: int


def latest_scoring(session: Session) -> Scoring:
    """The as-of date and computing time of ``contact_rfm`` (``None`` before any scoring)."""
    as_of, computed_at, customers = session.execute(
        select(func.max(ContactRfm.as_of), func.max(ContactRfm.computed_at), func.count())
    ).one()
    return Scoring(as_of, computed_at, int(customers or 0))


def _mean(value: object) -> float:
    return round(float(value or 0), 2)  # type: ignore[arg-type]


def segment_figures(session: Session) -> list[SegmentFigures]:
    """Every segment of the latest scoring, most customers first (then by name)."""
    rows = session.execute(
        select(
            ContactRfm.segment,
            func.count(),
            func.sum(ContactRfm.monetary),
            func.sum(ContactRfm.frequency),
            func.avg(ContactRfm.r),
            func.avg(ContactRfm.f),
            func.avg(ContactRfm.m),
            func.avg(ContactRfm.p),
        ).group_by(ContactRfm.segment)
    ).all()
    total = sum(int(row[1]) for row in rows) or 1
    figures = [
        SegmentFigures(
            segment=str(segment),
            customers=int(n),
            share=round(int(n) / total, 4),
            revenue=round(float(revenue or 0), 2),
            orders=int(orders or 0),
            mean_r=_mean(r),
            mean_f=_mean(f),
            mean_m=_mean(m),
            mean_p=None if p is None else _mean(p),
        )
        for segment, n, revenue, orders, r, f, m, p in rows
    ]
    return sorted(figures, key=lambda s: (-s.customers, s.segment))


def rf_grid(session: Session) -> dict[tuple[int, int], int]:
    """Customers per (R, F) score pair; pairs nobody has are absent."""
    rows = session.execute(
        select(ContactRfm.r, ContactRfm.f, func.count()).group_by(ContactRfm.r, ContactRfm.f)
    )
    return {(int(r), int(f)): int(n) for r, f, n in rows}


def cluster_profiles(session: Session) -> list[ClusterProfile]:
    """The clusters of the latest scoring, most customers first; empty when it did not
    cluster."""
    rows = session.execute(
        select(
            ContactRfm.cluster,
            func.max(ContactRfm.cluster_name),
            func.count(),
            func.avg(ContactRfm.recency_days),
            func.avg(ContactRfm.frequency),
            func.avg(ContactRfm.monetary),
        )
        .where(ContactRfm.cluster.is_not(None))
        .group_by(ContactRfm.cluster)
    ).all()
    total = sum(int(row[2]) for row in rows) or 1
    profiles = [
        ClusterProfile(
            cluster=int(cluster),
            name=str(name or f"Cluster {cluster}"),
            customers=int(n),
            share=round(int(n) / total, 4),
            mean_recency_days=_mean(recency),
            mean_frequency=_mean(frequency),
            mean_monetary=_mean(monetary),
        )
        for cluster, name, n, recency, frequency, monetary in rows
    ]
    return sorted(profiles, key=lambda c: (-c.customers, c.cluster))


@dataclass(frozen=True)
class SegmentsReport:
    """The segments page and ``GET /v1/segments``: the scoring, each segment with its
    definition in words (from the segment map that names them all), and the R x F grid."""

    scoring: Scoring
    segments: list[SegmentFigures]
    definitions: dict[str, str]
    map_name: str
    grid: dict[tuple[int, int], int]


def segments_report(session: Session) -> SegmentsReport:
    """Everything known about the latest scoring's segments."""
    figures = segment_figures(session)
    segment_map = map_for(s.segment for s in figures)
    return SegmentsReport(
        scoring=latest_scoring(session),
        segments=figures,
        definitions=definitions(segment_map),
        map_name=segment_map.name,
        grid=rf_grid(session),
    )
