"""Tier reviews the worker runs by itself: every customer once a day, and as orders arrive.

* **Daily** (``loyalty_review_hour``, UTC, default 3; ``-1``: never): the first worker pass
  at or after that hour reviews every customer (:func:`lealta.loyalty.service.apply_program`,
  orders up to the moment of the review), once per day.
* **As orders arrive** (every ``loyalty_orders_every`` seconds, default 60; ``0``: never):
  the customers with orders stored since the last pass get a partial review
  (:mod:`lealta.loyalty.partial`): up and renewed only, nothing else touched. It starts
  after the first scheduled full review (which sets its starting point).

Both are recorded in the ``jobs`` table as two ``loyalty_review`` rows kept up to date
(:data:`FULL_MARK`, :data:`ORDERS_MARK`): when each last ran, the last order id it covered and
what it did; ``lealta jobs`` / ``GET /v1/jobs`` show them. Each pass reads and writes its
mark under the reviews' lock, in one transaction with its writes, so several workers
(PostgreSQL) never run the same review twice, and a pass repeated finds nothing to do.
An order stored by a transaction that commits late (its id below the mark) is picked up by
the next pass' overlap of :data:`OVERLAP` order ids, else by the next daily review.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.jobs.tables import DONE, Job

if TYPE_CHECKING:
    from lealta.bootstrap import Services
    from lealta.loyalty.partial import PartialReview
    from lealta.loyalty.service import Review

log = logging.getLogger(__name__)
KIND = "loyalty_review"
FULL_MARK = "loyalty-review-daily"
ORDERS_MARK = "loyalty-review-orders"
OVERLAP = 500  # order ids looked at again at each pass (transactions committing late)
WORKER = "lealta worker"


def _mark(session: Session, mark_id: str) -> Job | None:
    """The mark row, read afresh (another worker may just have written it)."""
    return session.scalars(
        select(Job).where(Job.id == mark_id).execution_options(populate_existing=True)
    ).first()


def _write_mark(session: Session, mark_id: str, now: dt.datetime, result: dict[str, Any]) -> None:
    row = _mark(session, mark_id)
    if row is None:
        row = Job(id=mark_id, kind=KIND, params={}, requested_by=WORKER, created_at=now)
        session.add(row)
    row.params = {"scope": "all" if mark_id == FULL_MARK else "new orders"}
    row.status, row.progress, row.step = DONE, 1.0, "Done"
    row.created_at = row.started_at = row.finished_at = row.heartbeat_at = now  # listed as latest
    row.result = result
    session.flush()


def last_order_id(session: Session) -> int:
    """The highest order id stored (0: none)."""
    from lealta.orders.tables import Order

    return int(session.scalar(select(func.max(Order.id))) or 0)


def review_all_if_due(services: Services, *, hour: int, now: dt.datetime) -> Review | None:
    """The daily review of every customer, when ``now`` is at or past ``hour`` (UTC) and no
    worker did it today; None when not due, done already, or no programme."""
    from lealta.loyalty.service import apply_program

    today = now.date().isoformat()
    if hour < 0 or now.astimezone(dt.UTC).hour < hour:
        return None

    def not_done(session: Session) -> bool:
        mark = _mark(session, FULL_MARK)
        return mark is None or (mark.result or {}).get("day") != today

    with services.uow.transaction() as session:
        if not not_done(session):
            return None
        upto = last_order_id(session)

    def record(session: Session, review: Review) -> None:
        _write_mark(
            session,
            FULL_MARK,
            now,
            {
                "day": today,
                "orders_through": upto,
                "customers": review.customers,
                "tiers": review.tiers,
                "upgraded": review.upgraded,
                "downgraded": review.downgraded,
                "at_risk": review.at_risk,
            },
        )
        if _mark(session, ORDERS_MARK) is None:  # the orders' passes start from here
            _write_mark(session, ORDERS_MARK, now, {"orders_through": upto, "contacts": 0})

    return apply_program(
        services,
        now=now,
        as_of=now.date() + dt.timedelta(days=1),
        only_if=not_done,
        then=record,
    )


def review_new_orders(session: Session, *, now: dt.datetime) -> PartialReview | None:
    """A partial review of the customers with orders stored since the last pass, in
    ``session``'s transaction; None when there is nothing to do (no programme, no full
    review yet, no new order)."""
    from lealta.loyalty.partial import review_contacts
    from lealta.loyalty.service import _lock, get
    from lealta.orders.tables import Order

    stored = get(session)
    if stored is None:
        return None
    _lock(session, stored.version)
    mark = _mark(session, ORDERS_MARK)
    if mark is None:
        return None
    since = int((mark.result or {}).get("orders_through", 0))
    upto = last_order_id(session)
    if upto <= since:
        return None
    ids = set(
        session.scalars(
            select(Order.contact_id).where(Order.id > since - OVERLAP, Order.id <= upto).distinct()
        )
    )
    done = review_contacts(session, ids, now=now)
    if done is None:
        return None
    _write_mark(
        session,
        ORDERS_MARK,
        now,
        {
            "orders_through": upto,
            "contacts": done.contacts,
            "upgraded": done.upgraded,
            "renewed": done.renewed,
        },
    )
    return done


class LoyaltySchedule:
    """The worker's loyalty passes (see the module docstring); :meth:`run_if_due` is called
    from the worker's loop and never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._last: float | None = None

    def run_if_due(self) -> None:
        """Look at most every ``loyalty_orders_every`` seconds (60 s when that is off)."""
        from lealta.storage.retry import in_transaction

        settings = self.services.settings
        every = settings.loyalty_orders_every
        if every <= 0 and settings.loyalty_review_hour < 0:
            return
        wait = every if every > 0 else 60.0
        if self._last is not None and time.monotonic() - self._last < wait:
            return
        self._last = time.monotonic()
        try:
            now = self.services.clock.now()
            review = review_all_if_due(self.services, hour=settings.loyalty_review_hour, now=now)
            if review is not None:
                log.info("daily loyalty review: %s", review)
            if every > 0:
                done = in_transaction(
                    self.services.uow, lambda s: review_new_orders(s, now=self.services.clock.now())
                )
                if done is not None and done.upgraded:
                    log.info("loyalty review of new orders: %s", done)
        except Exception:
            log.exception("a loyalty review failed; trying again at the next pass")
