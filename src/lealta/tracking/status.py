"""How the tracking inbox stands: messages waiting to be applied, set aside after an error, and
how long the oldest waiting one has waited (how far behind the processor is)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.contacts.schemas import as_utc
from lealta.tracking.tables import InboxMessage


@dataclass(frozen=True)
class InboxStatus:
    waiting: int
    failed: int
    oldest_waiting_at: dt.datetime | None

    def lag_seconds(self, now: dt.datetime) -> float:
        """Seconds the oldest waiting message has waited (0 when none waits)."""
        if self.oldest_waiting_at is None:
            return 0.0
        return max((as_utc(now) - self.oldest_waiting_at).total_seconds(), 0.0)


def inbox_status(session: Session) -> InboxStatus:
    """The inbox now; ``session`` must be the inbox's own (``Services.inbox``)."""
    waiting_rows = InboxMessage.failed_at.is_(None)
    waiting, oldest = session.execute(
        select(func.count(), func.min(InboxMessage.received_at)).where(waiting_rows)
    ).one()
    failed = session.scalar(
        select(func.count()).select_from(InboxMessage).where(InboxMessage.failed_at.is_not(None))
    )
    return InboxStatus(int(waiting or 0), int(failed or 0), as_utc(oldest) if oldest else None)


def every_inbox(services: Services) -> dict[str, InboxStatus]:
    """Each inbox the processor drains, by name: ``tracking`` (what the tracking endpoints
    accept) and, when it is a separate store (a SQLite file), ``state`` (the state database's
    own inbox, written by forms and imports)."""
    with services.inbox.transaction() as session:
        found = {"tracking": inbox_status(session)}
    if services.inbox is not services.uow:
        with services.uow.transaction() as session:
            found["state"] = inbox_status(session)
    return found
