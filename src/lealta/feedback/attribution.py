"""Crediting purchases to the messages that led to them.

**The rule** (:func:`credit`, pure). A purchase is credited to the message its buyer last
*clicked* (any channel) in the ``window`` before it: ``touch.at <= placed_at <= touch.at +
window``, both ends included. The latest click wins; two clicks at the same moment go to the
higher outbox id, so the answer never depends on row order. With ``opens=True`` a purchase that
follows no click falls back to the last *open* by the same rule. A purchase is credited to one
message at most, once: the credit is recorded as a ``converted`` interaction with dedupe key
``conv:<order id>``, so running attribution again (or for overlapping ranges) changes nothing.

**The services.** :func:`attribute_orders` credits given orders set-wise (one query for the
touches of all their buyers, one per conversion recorded); it is meant to run in the transaction
that stores the orders. :func:`attribute_since` catches up on every order placed since a moment
that is not credited yet (``lealta reports attribute``).

Touches belong to a buyer through the outbox row's ``contact_id``, which merges of profiles keep
up to date. Revenue is the order's amount in its own currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.feedback.service import record
from lealta.orders.tables import Order

DEFAULT_DAYS = 5
CHUNK = 500


@dataclass(frozen=True)
class Purchase:
    """An order as attribution sees it."""

    order_id: str
    contact_id: str
    placed_at: dt.datetime
    amount: Decimal

    @classmethod
    def of(cls, order: Order) -> Purchase:
        """The purchase an ``orders`` row records."""
        return cls(order.external_id, order.contact_id, _utc(order.placed_at), order.amount)


@dataclass(frozen=True)
class Touch:
    """A click (or open) of message ``outbox_id`` by ``contact_id`` at ``at``."""

    outbox_id: int
    contact_id: str
    kind: str  # "clicked" | "opened"
    at: dt.datetime


@dataclass(frozen=True)
class Credit:
    """Purchase ``order_id`` credited to message ``outbox_id`` through ``touch``."""

    order_id: str
    outbox_id: int
    contact_id: str
    revenue: Decimal
    placed_at: dt.datetime
    touch: str
    touched_at: dt.datetime


def credit(
    purchases: Iterable[Purchase],
    touches: Iterable[Touch],
    *,
    window: dt.timedelta,
    opens: bool = False,
) -> list[Credit]:
    """The message each purchase is credited to (purchases credited to none are left out).

    Parameters
    ----------
    purchases
        Orders to credit; an order id seen twice is credited once.
    touches
        Clicks (and opens) of messages, any order.
    window
        How long after a touch a purchase still counts (``attribution_days``).
    opens
        Fall back to the last open when no click precedes the purchase in the window.
    """
    by_contact: dict[str, list[Touch]] = {}
    for touch in touches:
        by_contact.setdefault(touch.contact_id, []).append(touch)
    kinds = ("clicked", "opened") if opens else ("clicked",)
    credits: list[Credit] = []
    seen: set[str] = set()
    for purchase in purchases:
        if purchase.order_id in seen:
            continue
        seen.add(purchase.order_id)
        candidates = by_contact.get(purchase.contact_id, ())
        for kind in kinds:
            best = _last(candidates, kind, purchase.placed_at, window)
            if best is not None:
                credits.append(
                    Credit(
                        purchase.order_id,
                        best.outbox_id,
                        purchase.contact_id,
                        purchase.amount,
                        purchase.placed_at,
                        best.kind,
                        best.at,
                    )
                )
                break
    return credits


def _last(
    touches: Iterable[Touch], kind: str, placed_at: dt.datetime, window: dt.timedelta
) -> Touch | None:
    eligible = [t for t in touches if t.kind == kind and t.at <= placed_at <= t.at + window]
    return max(eligible, key=lambda t: (t.at, t.outbox_id), default=None)


# -- services --------------------------------------------------------------------------------


def attribute_orders(
    session: Session,
    orders: Iterable[Purchase | Order],
    now: dt.datetime,
    *,
    days: int = DEFAULT_DAYS,
    opens: bool = False,
) -> list[Credit]:
    """Credit ``orders`` to messages and record the conversions; the credits newly recorded.

    Orders placed after ``now`` wait for a later run. Never commits.
    """
    given = (o if isinstance(o, Purchase) else Purchase.of(o) for o in orders)
    purchases = [replace(p, placed_at=_utc(p.placed_at)) for p in given if _utc(p.placed_at) <= now]
    if not purchases:
        return []
    window = dt.timedelta(days=days)
    touches = _touches(session, purchases, window, opens)
    recorded: list[Credit] = []
    for found in credit(purchases, touches, window=window, opens=opens):
        row = record(
            session,
            outbox_id=found.outbox_id,
            kind="converted",
            at=found.placed_at,
            order_id=found.order_id,
            revenue=found.revenue,
            details={"touch": found.touch, "touched_at": found.touched_at.isoformat()},
            dedupe_key=f"conv:{found.order_id}"[:200],
        )
        if row is not None:
            recorded.append(found)
    return recorded


def attribute_since(
    session: Session,
    since: dt.datetime,
    *,
    now: dt.datetime,
    days: int = DEFAULT_DAYS,
    opens: bool = False,
) -> int:
    """Credit every order placed from ``since`` to ``now`` not credited yet; how many were."""
    credited = select(MessageInteraction.order_id).where(
        MessageInteraction.kind == "converted", MessageInteraction.order_id.is_not(None)
    )
    query = (
        select(Order)
        .where(
            Order.placed_at >= since,
            Order.placed_at <= now,
            Order.external_id.not_in(credited),
        )
        .order_by(Order.id)
    )
    total = 0
    after = 0
    while True:
        chunk = list(session.scalars(query.where(Order.id > after).limit(CHUNK)))
        if not chunk:
            return total
        after = chunk[-1].id
        total += len(attribute_orders(session, chunk, now, days=days, opens=opens))


def _touches(
    session: Session, purchases: Sequence[Purchase], window: dt.timedelta, opens: bool
) -> list[Touch]:
    """The buyers' clicks (and opens) that may precede their purchases."""
    contacts = sorted({p.contact_id for p in purchases})
    start = min(_utc(p.placed_at) for p in purchases) - window
    end = max(_utc(p.placed_at) for p in purchases)
    kinds = ["clicked", "opened"] if opens else ["clicked"]
    found: list[Touch] = []
    for offset in range(0, len(contacts), CHUNK):
        rows = session.execute(
            select(
                MessageInteraction.outbox_id,
                OutboxMessage.contact_id,
                MessageInteraction.kind,
                MessageInteraction.at,
            )
            .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
            .where(
                OutboxMessage.contact_id.in_(contacts[offset : offset + CHUNK]),
                MessageInteraction.kind.in_(kinds),
                MessageInteraction.at >= start,
                MessageInteraction.at <= end,
            )
        )
        found.extend(Touch(o, c, k, _utc(a)) for o, c, k, a in rows)
    return found


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
