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

The worker looks at most once a minute (:mod:`lealta.jobs.schedules`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from lealta.affinity.options import AffinityOptions
from lealta.jobs import schedules

if TYPE_CHECKING:
    from lealta.bootstrap import Services

KIND = "next_best"
PARAMS = ("by", "window_days", "gap_days", "min_count", "top")


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
    return schedules.due(session, KIND, schedule, now)


class NextBestSchedule(schedules.JobSchedule):
    """Queues ``next_best`` jobs as the settings say; :meth:`run_if_due` never raises."""

    kind = KIND
    setting = "next_best_schedule"
