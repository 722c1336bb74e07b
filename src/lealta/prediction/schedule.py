"""The worker's scheduled ``clv`` job: predicted value kept fresh without anyone asking.

The setting ``clv_schedule`` (``LEALTA_CLV_SCHEDULE``) says when (see
:mod:`lealta.jobs.schedules`): ``weekly`` (default: P(alive) moves with the days a customer
stays quiet, so a weekly refit catches who is slipping away in time for a win-back and the
``Churn Risk Rose`` events it records), ``daily``, ``after_rfm`` or ``off``. A due job is not
queued, and the worker logs why once, while the ``clv`` extra is not installed or fewer than
:data:`MIN_REPEAT_CUSTOMERS` customers bought on two different days (the models learn from
repeat purchases; with fewer, their four parameters swing from one run to the next).
"""

from __future__ import annotations

import importlib.util

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.jobs.schedules import JobSchedule
from lealta.orders.tables import Order
from lealta.prediction.job import KIND

MIN_REPEAT_CUSTOMERS = 50
LIBRARY = "pymc_marketing"


def repeat_customers(session: Session, *, at_most: int) -> int:
    """How many customers ordered on two different days or more, counted up to ``at_most``
    (the count stops there: a large store answers after its first customers)."""
    day = func.date(Order.placed_at)
    repeat = (
        select(Order.contact_id)
        .group_by(Order.contact_id)
        .having(func.count(day.distinct()) >= 2)
        .limit(at_most)
    )
    return int(session.scalar(select(func.count()).select_from(repeat.subquery())) or 0)


def skip_reason(session: Session, *, library: str = LIBRARY) -> str:
    """Why a scheduled ``clv`` job would not be worth queueing now, or empty."""
    if importlib.util.find_spec(library) is None:
        return (
            "the clv extra is not installed (pip install 'lealta[clv]'), so there is no "
            "predicted value to compute"
        )
    found = repeat_customers(session, at_most=MIN_REPEAT_CUSTOMERS)
    if found < MIN_REPEAT_CUSTOMERS:
        return (
            f"{found} customers bought on two different days; the models need at least "
            f"{MIN_REPEAT_CUSTOMERS} to learn from (lealta clv --from-store runs anyway)"
        )
    return ""


class CLVSchedule(JobSchedule):
    """Queues ``clv`` jobs as ``clv_schedule`` says; :meth:`run_if_due` never raises."""

    kind = KIND
    setting = "clv_schedule"

    def skip_reason(self, session: Session) -> str:
        """See :func:`skip_reason`."""
        return skip_reason(session)
