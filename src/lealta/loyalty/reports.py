"""Loyalty reports from the store: members and revenue per tier, migrations between two dates
(the matrix), and benefit use (vouchers redeemed per tier).

Each is one SQL statement with bound values (SQLAlchemy Core), the same on SQLite and
PostgreSQL. A contact's tier *on day D* is the ``to_tier`` of their latest
``loyalty_tier_changes`` row up to the end of D (UTC); before their first change they were in
no tier. Revenue and vouchers are grouped by the tier the customer holds **now**
(``contact_tiers``), the grouping a marketer acts on. Merged and erased contacts are left out,
as from every contact list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, select
from sqlalchemy.orm import Session

from lealta.contacts.tables import Contact
from lealta.loyalty.tables import ContactTier, LoyaltyProgramVersion, TierChange
from lealta.orders.tables import Order
from lealta.segmentation.movements import (
    Movements,
    check_dates,
    end_of,
    matrix,
    moved_between,
    states_on,
)
from lealta.vouchers.tables import Voucher


@dataclass(frozen=True)
class TierRevenue:
    """What the customers of one tier (None: in no tier) ordered in a period, in one
    currency."""

    tier: str | None
    currency: str
    customers: int
    orders: int
    revenue: float


@dataclass(frozen=True)
class TierVouchers:
    """Vouchers redeemed in a period by the customers of one tier (None: in no tier)."""

    tier: str | None
    vouchers: int
    customers: int


def _live() -> ColumnElement[bool]:
    return and_(Contact.merged_into.is_(None), Contact.erased_at.is_(None))


def members(session: Session) -> dict[str, int]:
    """Customers per tier now (tiers nobody holds are absent)."""
    rows = session.execute(
        select(ContactTier.tier, func.count())
        .join(Contact, Contact.id == ContactTier.contact_id)
        .where(_live())
        .group_by(ContactTier.tier)
    ).all()
    return {tier: int(n) for tier, n in rows}


def in_tier(name: str | None) -> ColumnElement[bool]:
    """A condition on ``Contact.id``: the contacts in tier ``name`` now (None: in none)."""
    holders = select(ContactTier.contact_id)
    if name is None:
        return Contact.id.not_in(holders)
    return Contact.id.in_(holders.where(ContactTier.tier == name))


def _period(column: Any, start: dt.date, end: dt.date) -> ColumnElement[bool]:
    """``column`` on a day from ``start`` to ``end``, both whole days (UTC)."""
    return and_(column >= end_of(start - dt.timedelta(days=1)), column < end_of(end))


def revenue(session: Session, start: dt.date, end: dt.date) -> list[TierRevenue]:
    """Orders placed from ``start`` to ``end`` (whole days, UTC) per tier held now and
    currency: customers who ordered, orders and revenue. Customers in no tier are one row
    with ``tier`` None.

    Raises
    ------
    InvalidInput
        When ``start`` is after ``end`` (field ``from``).
    """
    check_dates(start, end)
    rows = session.execute(
        select(
            ContactTier.tier,
            Order.currency,
            func.count(func.distinct(Order.contact_id)),
            func.count(),
            func.coalesce(func.sum(Order.amount), 0),
        )
        .select_from(Order)
        .join(Contact, Contact.id == Order.contact_id)
        .outerjoin(ContactTier, ContactTier.contact_id == Order.contact_id)
        .where(_live(), _period(Order.placed_at, start, end))
        .group_by(ContactTier.tier, Order.currency)
    ).all()
    return [
        TierRevenue(tier, currency, int(people), int(orders), round(float(amount), 2))
        for tier, currency, people, orders, amount in rows
    ]


def vouchers_redeemed(session: Session, start: dt.date, end: dt.date) -> list[TierVouchers]:
    """Vouchers redeemed from ``start`` to ``end`` (whole days, UTC) per tier their holder is
    in now (None: in no tier), with the customers who redeemed them.

    Raises
    ------
    InvalidInput
        When ``start`` is after ``end`` (field ``from``).
    """
    check_dates(start, end)
    redeemed = Voucher.redeemed_at
    rows = session.execute(
        select(ContactTier.tier, func.count(), func.count(func.distinct(Voucher.contact_id)))
        .select_from(Voucher)
        .join(Contact, Contact.id == Voucher.contact_id)
        .outerjoin(ContactTier, ContactTier.contact_id == Voucher.contact_id)
        .where(_live(), redeemed.is_not(None), _period(redeemed, start, end))
        .group_by(ContactTier.tier)
    ).all()
    return [TierVouchers(tier, int(n), int(people)) for tier, n, people in rows]


def vouchers_ever_redeemed(session: Session) -> int:
    """How many vouchers were ever redeemed (to tell "none in this period" from "none
    recorded at all")."""
    return int(session.scalar(select(func.count()).where(Voucher.redeemed_at.is_not(None))) or 0)


def tiers_on(start: dt.date, end: dt.date) -> Subquery:
    """Each contact with a tier change by the end of ``end``: ``contact_id``, ``was`` (their
    tier at the end of ``start``) and ``now`` (at the end of ``end``); NULL for no tier
    (:func:`lealta.segmentation.movements.states_on` over the tier history)."""
    changes = (
        select(
            TierChange.contact_id,
            TierChange.changed_at.label("at"),
            TierChange.id,
            TierChange.to_tier.label("state"),
        )
        .where(TierChange.changed_at < end_of(end))
        .subquery()
    )
    return states_on(changes, start, end)


def migrations(session: Session, start: dt.date, end: dt.date) -> Movements:
    """The tier migration matrix from ``start`` to ``end`` (whole days, UTC): how many
    contacts were in tier ``a`` on the first day and in ``b`` on the second (None: no tier).

    Raises
    ------
    InvalidInput
        When ``start`` is after ``end`` (field ``from``).
    """
    check_dates(start, end)
    return matrix(session, tiers_on(start, end), start, end)


def movers(
    start: dt.date, end: dt.date, before: str | None, after: str | None
) -> ColumnElement[bool]:
    """A condition on ``Contact.id``: the contacts in tier ``before`` on ``start`` and in
    ``after`` on ``end`` (None: in no tier), for the people behind a cell of the matrix."""
    return moved_between(tiers_on(start, end), before, after)


def first_change(session: Session) -> dt.datetime | None:
    """When the first tier change was recorded (None: never)."""
    return session.scalar(select(func.min(TierChange.changed_at)))


def last_review(session: Session) -> dt.datetime | None:
    """When tiers were last reviewed in full (None: never): the latest ``reviewed_at`` of the
    programme's versions, which every full review sets, whoever ran it (after an RFM run, the
    worker, a console job, the command line); partial reviews of customers with new orders do
    not count."""
    moment = session.scalar(select(func.max(LoyaltyProgramVersion.reviewed_at)))
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # SQLite's max() is naive
    return moment
