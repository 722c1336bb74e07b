"""Jobs the worker queues by itself, as a setting says (``next_best``, ``clv``).

A schedule is one of:

* ``after_rfm``: after each RFM job that finished since the last job of the kind was asked
  for (the console's "Recompute", ``POST /v1/segmentation/rfm/jobs``);
* ``daily``: once a UTC day, at the first worker pass of the day;
* ``weekly``: at the first worker pass 7 days or more after the last job of the kind was
  asked for (by anyone), or at once when none ever was;
* ``off``: only when asked.

:class:`JobSchedule` looks at most once a minute (:data:`LOOK_EVERY`); a kind may say why
not to queue now (:meth:`JobSchedule.skip_reason`), which is logged once and looked at again
an hour later (:data:`SKIP_WAIT`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.jobs.tables import DONE, Job

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
SCHEDULES = ("off", "after_rfm", "daily", "weekly")
LOOK_EVERY = 60.0
SKIP_WAIT = 3600.0
WEEK = dt.timedelta(days=7)
WORKER = "lealta worker"


def due(session: Session, kind: str, schedule: str, now: dt.datetime) -> bool:
    """Whether the worker should queue a ``kind`` job now under ``schedule``."""
    if schedule not in SCHEDULES or schedule == "off":
        return False
    last = _latest(session, kind)
    if schedule == "daily":
        return last is None or _utc(last.created_at).date() < now.date()
    if schedule == "weekly":
        return last is None or _utc(last.created_at) <= now - WEEK
    rfm = _latest(session, "rfm", DONE)
    if rfm is None or rfm.finished_at is None:
        return False
    return last is None or _utc(rfm.finished_at) > _utc(last.created_at)


def _latest(session: Session, kind: str, status: str | None = None) -> Job | None:
    query = select(Job).where(Job.kind == kind)
    if status is not None:
        query = query.where(Job.status == status)
    order = (Job.finished_at if status else Job.created_at).desc()
    return session.scalars(query.order_by(order, Job.id.desc()).limit(1)).first()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class JobSchedule:
    """Queues ``kind`` jobs as the setting ``setting`` says; :meth:`run_if_due` never raises."""

    kind = ""
    setting = ""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._wait_until: float | None = None
        self._skipped = ""

    def skip_reason(self, session: Session) -> str:
        """Why not to queue a due job now (logged), or empty to queue it."""
        return ""

    def run_if_due(self) -> bool:
        """Look when it is time to; queue a job when one is due. Whether one was queued."""
        from lealta.jobs.service import enqueue

        schedule = str(getattr(self.services.settings, self.setting))
        if schedule == "off":
            return False
        if self._wait_until is not None and time.monotonic() < self._wait_until:
            return False
        self._wait_until = time.monotonic() + LOOK_EVERY
        try:
            now = self.services.clock.now()
            with self.services.uow.transaction() as session:
                if not due(session, self.kind, schedule, now):
                    return False
                reason = self.skip_reason(session)
            if reason:
                self._skip(reason)
                return False
            self._skipped = ""
            enqueue(self.services.uow, kind=self.kind, params={}, requested_by=WORKER, now=now)
            return True
        except Exception:
            log.exception("could not queue the %s job; trying again shortly", self.kind)
            return False

    def _skip(self, reason: str) -> None:
        if reason != self._skipped:
            log.warning("not queueing the scheduled %s job: %s", self.kind, reason)
        self._skipped = reason
        self._wait_until = time.monotonic() + SKIP_WAIT
