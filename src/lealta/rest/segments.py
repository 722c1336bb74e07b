"""``/v1/segments``: the latest RFM scoring's segments (with their definitions in words), the
movement between segments from one date to another, and the cluster profiles. Admin key.
The console's Segments page shows the very same answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lealta.rest.auth import require_admin, services
from lealta.segmentation import remembered
from lealta.segmentation.movements import Movements
from lealta.segmentation.summary import (
    ClusterProfile,
    SegmentsReport,
)
from lealta.segmentation.wording import map_for

router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[Depends(require_admin)])


class SegmentOut(BaseModel):
    segment: str = Field(description="The segment's name.")
    customers: int = Field(description="Contacts in the segment in the latest scoring.")
    share: float = Field(description="Customers as a fraction of all scored contacts (0 to 1).")
    revenue: float = Field(description="Sum of the customers' monetary values (scoring window).")
    orders: int = Field(description="Sum of the customers' frequencies (orders counted).")
    average_order_value: float | None = Field(description="Revenue / orders; null without orders.")
    mean_r: float = Field(description="Mean recency score (5 = bought most recently).")
    mean_f: float = Field(description="Mean frequency score (5 = buys most often).")
    mean_m: float = Field(description="Mean monetary score (5 = spends the most).")
    mean_p: float | None = Field(description="Mean payment score (RFMP only), else null.")
    definition: str = Field(description="The segment map's rule for the segment, in words.")


class GridCellOut(BaseModel):
    r: int = Field(description="Recency score.")
    f: int = Field(description="Frequency score.")
    customers: int = Field(description="Contacts with these R and F scores.")


class SegmentsOut(BaseModel):
    as_of: dt.datetime | None = Field(description="The scoring's as-of date; null before any.")
    computed_at: dt.datetime | None = Field(description="When the scoring was computed.")
    customers: int = Field(description="Contacts scored.")
    segment_map: str = Field(description="The segment map whose rules define the segments.")
    segments: list[SegmentOut] = Field(description="Segments, most customers first.")
    grid: list[GridCellOut] = Field(description="Customers per R and F score (pairs with any).")


class MovementOut(BaseModel):
    from_segment: str | None = Field(description="Segment on the first date; null: new.")
    to_segment: str | None = Field(description="Segment on the second date; null: gone.")
    contacts: int = Field(description="Contacts that made this move (or stayed, when equal).")


class MovementsOut(BaseModel):
    from_date: dt.date = Field(description="The first date (segment at the end of that day).")
    to_date: dt.date = Field(description="The second date (segment at the end of that day).")
    segments: list[str] = Field(description="Segments named in the matrix, in the map's order.")
    moved: int = Field(description="Contacts whose segment changed (new and gone included).")
    cells: list[MovementOut] = Field(description="Every (from, to) pair somebody made.")


class ClusterOut(BaseModel):
    cluster: int = Field(description="The cluster's number.")
    name: str = Field(description="Its name, from its customers' recency, frequency and spend.")
    customers: int = Field(description="Contacts in the cluster.")
    share: float = Field(description="Customers as a fraction of all clustered contacts (0 to 1).")
    mean_recency_days: float = Field(description="Mean days since the last order.")
    mean_frequency: float = Field(description="Mean number of orders.")
    mean_monetary: float = Field(description="Mean spend (monetary value).")


class ClustersOut(BaseModel):
    as_of: dt.datetime | None = Field(description="The scoring's as-of date; null before any.")
    clusters: list[ClusterOut] = Field(
        description="Clusters, most customers first; empty when the scoring did not cluster."
    )


def segments_out(report: SegmentsReport) -> SegmentsOut:
    """The report as the API answers it."""
    return SegmentsOut(
        as_of=report.scoring.as_of,
        computed_at=report.scoring.computed_at,
        customers=report.scoring.customers,
        segment_map=report.map_name,
        segments=[
            SegmentOut(
                segment=s.segment,
                customers=s.customers,
                share=s.share,
                revenue=s.revenue,
                orders=s.orders,
                average_order_value=s.average_order_value,
                mean_r=s.mean_r,
                mean_f=s.mean_f,
                mean_m=s.mean_m,
                mean_p=s.mean_p,
                definition=report.definitions.get(s.segment, ""),
            )
            for s in report.segments
        ],
        grid=[GridCellOut(r=r, f=f, customers=n) for (r, f), n in sorted(report.grid.items())],
    )


def movements_out(found: Movements, order: list[str]) -> MovementsOut:
    """The matrix as the API answers it."""
    return MovementsOut(
        from_date=found.start,
        to_date=found.end,
        segments=found.segments(order),
        moved=found.moved(),
        cells=[
            MovementOut(from_segment=a, to_segment=b, contacts=n)
            for (a, b), n in sorted(found.cells.items(), key=lambda i: (-i[1], str(i[0])))
        ],
    )


def clusters_out(as_of: dt.datetime | None, profiles: list[ClusterProfile]) -> ClustersOut:
    """The cluster profiles as the API answers them."""
    return ClustersOut(
        as_of=as_of,
        clusters=[ClusterOut(**profile.__dict__) for profile in profiles],
    )


@router.get("/segments", response_model=SegmentsOut)
def list_segments(request: Request) -> SegmentsOut:
    """The latest RFM scoring's segments: customers, share, revenue, orders, average order
    value, mean scores and each segment's definition in words; and the R x F grid."""
    found = services(request)
    with found.uow.transaction() as session:
        return segments_out(remembered.segments_report(found.memo, session))


@router.get("/segments/movements", response_model=MovementsOut)
def segment_movements(
    request: Request,
    start: Annotated[
        dt.date, Query(alias="from", description="First date, YYYY-MM-DD (end of day, UTC).")
    ],
    end: Annotated[
        dt.date, Query(alias="to", description="Second date, YYYY-MM-DD (end of day, UTC).")
    ],
) -> MovementsOut:
    """How many contacts were in each segment on ``from`` and in which on ``to`` (new: none on
    ``from``; gone: none on ``to``), from the ``Segment Entered`` / ``Segment Left`` events each
    RFM recomputation records. 400 when ``from`` is after ``to``."""
    store = services(request)
    with store.uow.transaction() as session:
        found = remembered.moves(store.memo, session, start, end)
        order = map_for(found.segments()).segment_names
    return movements_out(found, order)


@router.get("/segments/clusters", response_model=ClustersOut)
def list_clusters(request: Request) -> ClustersOut:
    """The clusters of the latest scoring (``lealta rfm --from-store --clusters auto``): size,
    mean recency, frequency and spend, and the name those give."""
    store = services(request)
    with store.uow.transaction() as session:
        report = remembered.segments_report(store.memo, session)
        return clusters_out(report.scoring.as_of, remembered.clusters(store.memo, session))
