"""Compute the overview (see the package docstring). Every figure names the contact filter that
lists the people behind it, in the terms of ``GET /v1/contacts``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations.tables import Run, Workflow
from lealta.contacts.search import arrived_at
from lealta.contacts.tables import Contact
from lealta.feedback.reports import message_report
from lealta.orders.tables import Order
from lealta.rulesets.service import lifecycle_model
from lealta.segmentation.summary import rf_grid, segment_figures
from lealta.segmentation.tables import ContactRfm
from lealta.tracking.status import inbox_status

WINDOWS = (30, 90)
LIVE_RUNS = ("active", "waiting")


@dataclass(frozen=True)
class StageCount:
    stage: str
    contacts: int


@dataclass(frozen=True)
class DayFigure:
    day: dt.date
    contacts: int
    revenue: Decimal


@dataclass(frozen=True)
class SegmentFigure:
    segment: str
    customers: int
    revenue: float
    share: float  # of scored customers


@dataclass(frozen=True)
class ChannelFigure:
    channel: str
    sent: int
    open_rate: float | None
    click_rate: float | None
    unsubscribe_rate: float | None


@dataclass(frozen=True)
class WorkflowFigure:
    workflow_id: str
    name: str
    status: str
    in_progress: int


@dataclass
class Overview:
    """Everything on the overview page, computed at ``computed_at``."""

    computed_at: dt.datetime
    contacts: int
    stages: list[StageCount]
    days: list[DayFigure]  # the last max(WINDOWS) days, oldest first
    segments: list[SegmentFigure]
    grid: dict[tuple[int, int], int]  # (R, F) -> customers
    rfm_as_of: dt.datetime | None
    channels: list[ChannelFigure]
    workflows: list[WorkflowFigure]
    inbox_waiting: int
    inbox_failed: int
    windows: tuple[int, ...] = field(default=WINDOWS)

    def new_contacts(self, days: int) -> int:
        """Contacts that arrived (first seen, or created) in the last ``days`` days, today
        included."""
        return sum(d.contacts for d in self.days[-days:])

    def revenue(self, days: int) -> Decimal:
        """Order revenue in the last ``days`` days (today included)."""
        return sum((d.revenue for d in self.days[-days:]), Decimal(0))

    def as_dict(self) -> dict[str, Any]:
        """The overview as JSON-ready data (what ``GET /v1/overview`` answers)."""
        return {
            "computed_at": self.computed_at.isoformat(),
            "contacts": self.contacts,
            "stages": [{"stage": s.stage, "contacts": s.contacts} for s in self.stages],
            "windows": {
                str(days): {
                    "new_contacts": self.new_contacts(days),
                    "revenue": str(self.revenue(days)),
                }
                for days in self.windows
            },
            "days": [
                {"day": d.day.isoformat(), "contacts": d.contacts, "revenue": str(d.revenue)}
                for d in self.days
            ],
            "rfm": {
                "as_of": self.rfm_as_of.isoformat() if self.rfm_as_of else None,
                "segments": [
                    {
                        "segment": s.segment,
                        "customers": s.customers,
                        "revenue": s.revenue,
                        "share": s.share,
                    }
                    for s in self.segments
                ],
                "grid": [
                    {"r": r, "f": f, "customers": n} for (r, f), n in sorted(self.grid.items())
                ],
            },
            "messages_30d": [
                {
                    "channel": c.channel,
                    "sent": c.sent,
                    "open_rate": c.open_rate,
                    "click_rate": c.click_rate,
                    "unsubscribe_rate": c.unsubscribe_rate,
                }
                for c in self.channels
            ],
            "workflows": [
                {
                    "id": w.workflow_id,
                    "name": w.name,
                    "status": w.status,
                    "in_progress": w.in_progress,
                }
                for w in self.workflows
            ],
            "inbox": {"waiting": self.inbox_waiting, "failed": self.inbox_failed},
        }


_LIVE = (Contact.merged_into.is_(None), Contact.erased_at.is_(None))


def compute_overview(
    session: Session, inbox: Session | None = None, *, now: dt.datetime
) -> Overview:
    """The overview at ``now``; ``inbox`` is the session of the tracking inbox's database when
    it is kept apart (SQLite), else the state session is used."""
    rfm_as_of = session.scalar(select(func.max(ContactRfm.as_of)))
    waiting, failed = _inbox(inbox or session)
    return Overview(
        computed_at=now,
        contacts=int(session.scalar(select(func.count()).select_from(Contact).where(*_LIVE)) or 0),
        stages=_stages(session),
        days=_days(session, now),
        segments=_segments(session),
        grid=rf_grid(session),
        rfm_as_of=rfm_as_of,
        channels=_channels(session, now),
        workflows=_workflows(session),
        inbox_waiting=waiting,
        inbox_failed=failed,
    )


def _stages(session: Session) -> list[StageCount]:
    counts = dict(
        session.execute(
            select(Contact.lifecycle_stage, func.count())
            .where(*_LIVE)
            .group_by(Contact.lifecycle_stage)
        ).all()
    )
    ordered = [stage.name for stage in lifecycle_model(session).stages]
    known = [StageCount(name, int(counts.pop(name, 0))) for name in ordered]
    others = [
        StageCount(str(name or "(none)"), int(n)) for name, n in sorted(counts.items(), key=str)
    ]
    return known + others


def _days(session: Session, now: dt.datetime) -> list[DayFigure]:
    first = (now - dt.timedelta(days=max(WINDOWS) - 1)).date()
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    created = _per_day(session, arrived_at(), func.count(), start, *_LIVE)
    revenue = _per_day(session, Order.placed_at, func.sum(Order.amount), start)
    return [
        DayFigure(
            day,
            int(created.get(day, 0)),
            Decimal(str(revenue.get(day) or 0)).quantize(Decimal("0.01")),
        )
        for day in (first + dt.timedelta(days=i) for i in range(max(WINDOWS)))
    ]


def _per_day(
    session: Session, moment: Any, measure: Any, start: dt.datetime, *where: Any
) -> dict[dt.date, Any]:
    day = func.date(moment)
    rows = session.execute(select(day, measure).where(moment >= start, *where).group_by(day)).all()
    return {_as_date(value): amount for value, amount in rows}


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _segments(session: Session) -> list[SegmentFigure]:
    figures = sorted(segment_figures(session), key=lambda s: -s.revenue)
    return [SegmentFigure(s.segment, s.customers, s.revenue, s.share) for s in figures]


def _channels(session: Session, now: dt.datetime) -> list[ChannelFigure]:
    rows = message_report(session, by="channel", since=now - dt.timedelta(days=30), until=now)
    figures = []
    for row in rows:
        rates = row.rates()
        figures.append(
            ChannelFigure(
                row.label,
                row.sent,
                rates["open_rate"],
                rates["click_rate"],
                rates["unsubscribe_rate"],
            )
        )
    return figures


def _workflows(session: Session) -> list[WorkflowFigure]:
    live = (
        select(Run.workflow_id, func.count().label("n"))
        .where(Run.status.in_(LIVE_RUNS))
        .group_by(Run.workflow_id)
        .subquery()
    )
    rows = session.execute(
        select(Workflow.id, Workflow.name, Workflow.status, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.workflow_id == Workflow.id)
        .where(Workflow.status != "draft")
        .order_by(func.coalesce(live.c.n, 0).desc(), Workflow.name)
    ).all()
    return [WorkflowFigure(str(i), str(n), str(s), int(c)) for i, n, s, c in rows]


def _inbox(session: Session) -> tuple[int, int]:
    found = inbox_status(session)
    return found.waiting, found.failed
