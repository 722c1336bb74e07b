"""The ``next_best`` job: every contact's next-best items, computed by the worker.

A ``next_best`` job (one at a time) runs :func:`lealta.affinity.store.next_best_from_store`
with its params (``by``, ``window_days``, ``gap_days``, ``min_count``, ``top``; the
settings' ``next_best_by`` when ``by`` is not given). It is queued by
``POST /v1/affinity/next-best/jobs`` and, by the worker itself, as the setting
``next_best_schedule`` (``LEALTA_NEXT_BEST_SCHEDULE``) says:

* ``after_rfm`` (default): after each RFM job that finished since the last next-best job was
  asked for (the console's "Recompute", ``POST /v1/segmentation/rfm/jobs``);
* ``daily``: once a UTC day, at the first worker pass of the day;
* ``off``: only when asked.

The worker looks at most once a minute (:data:`LOOK_EVERY`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.affinity.options import AffinityOptions
from lealta.jobs.tables import DONE, Job

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
KIND = "next_best"
SCHEDULES = ("off", "after_rfm", "daily")
LOOK_EVERY = 60.0
PARAMS = ("by", "window_days", "gap_days", "min_count", "top")
WORKER = "lealta worker"


def options_from(params: dict[str, Any], default_by: str = "category") -> AffinityOptions:
    """The options a job's ``params`` ask for (each checked, naming its field)."""
    from lealta.errors import InvalidInput

    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise InvalidInput(f"unknown next-best option {unknown[0]!r}", field=unknown[0])
    values = {key: params[key] for key in PARAMS if params.get(key) is not None}
    values.setdefault("by", default_by)
    return AffinityOptions(**values)


def run_job(services: Services, params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Run a ``next_best`` job; its result says what was saved."""
    from lealta.affinity.store import next_best_from_store
    from lealta.errors import InvalidInput

    options = options_from(params, services.settings.next_best_by)
    try:
        done = next_best_from_store(services, options, progress=progress)
    except InvalidInput as problem:
        if problem.field != "orders":
            raise
        # a shop whose orders carry no items: nothing to learn, not a failure
        return {"by": options.by, "suggestions": 0, "note": str(problem)}
    return {
        "by": done.kind,
        "as_of": done.as_of.isoformat(),
        "lines": done.lines,
        "rules": done.rules,
        "contacts": done.contacts,
        "suggestions": done.suggestions,
    }


def due(session: Session, schedule: str, now: dt.datetime) -> bool:
    """Whether the worker should queue a ``next_best`` job now under ``schedule``."""
    if schedule not in ("after_rfm", "daily"):
        return False
    last = _latest(session, KIND)
    if schedule == "daily":
        return last is None or _utc(last.created_at).date() < now.date()
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


class NextBestSchedule:
    """Queues ``next_best`` jobs as the settings say; :meth:`run_if_due` never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._last: float | None = None

    def run_if_due(self) -> None:
        """Look at most every :data:`LOOK_EVERY` seconds; queue a job when one is due."""
        from lealta.jobs.service import enqueue

        schedule = self.services.settings.next_best_schedule
        if schedule == "off":
            return
        if self._last is not None and time.monotonic() - self._last < LOOK_EVERY:
            return
        self._last = time.monotonic()
        try:
            now = self.services.clock.now()
            with self.services.uow.transaction() as session:
                wanted = due(session, schedule, now)
            if wanted:
                enqueue(self.services.uow, kind=KIND, params={}, requested_by=WORKER, now=now)
        except Exception:
            log.exception("could not queue the next-best job; trying again shortly")
