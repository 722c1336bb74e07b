"""An audience's size over time: one row per day with a refresh (the size after the day's
latest refresh, with who entered and exited that day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.audiences.tables import Audience, AudienceSize
from lealta.errors import InvalidInput

MAX_DAYS = 3660


@dataclass(frozen=True)
class DaySize:
    """The size on a day."""

    day: dt.date
    size: int
    entered: int
    exited: int


def history(
    session: Session, audience: Audience, *, today: dt.date, days: int = 90
) -> list[DaySize]:
    """The sizes of the last ``days`` days up to ``today``, oldest first (days without a
    refresh have no row)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}", field="days")
    since = today - dt.timedelta(days=days - 1)
    query = (
        select(AudienceSize)
        .where(AudienceSize.audience_id == audience.id, AudienceSize.day >= since)
        .order_by(AudienceSize.day)
    )
    return [DaySize(row.day, row.size, row.entered, row.exited) for row in session.scalars(query)]
