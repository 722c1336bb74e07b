"""The parts of a contact view that only the condition language reads: the contacts' orders the
saved audiences they are members of, their predicted value and next-best suggestions, for a
whole batch of contacts in one query each (:mod:`lealta.conditions.views` builds the views)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, column, select, table

from lealta.conditions.view import OrderView
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.storage.keyed import one_of

# lealta.audiences.tables and lealta.affinity.tables, by shape (as in lealta.conditions.sql)
_audiences = table("audiences", column("id"), column("name"))
_members = table("audience_members", column("audience_id"), column("contact_id"))
_next_best = table(
    "contact_next_best", column("contact_id"), column("rank"), column("kind"), column("item")
)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def orders_of(
    connection: Connection, ids: Sequence[str], now: dt.datetime
) -> dict[str, tuple[OrderView, ...]]:
    """Each contact's orders placed up to ``now``, oldest first."""
    if not ids:
        return {}
    rows = connection.execute(
        select(Order.contact_id, Order.placed_at, Order.amount, Order.items)
        .where(one_of(connection, Order.contact_id, ids), Order.placed_at <= now)
        .order_by(Order.placed_at, Order.id)
    )
    found: dict[str, list[OrderView]] = defaultdict(list)
    for contact_id, placed_at, amount, items in rows:
        lines = [item for item in items or [] if isinstance(item, dict)]
        found[contact_id].append(OrderView(_aware(placed_at), amount, lines))
    return {contact_id: tuple(orders) for contact_id, orders in found.items()}


def audiences_of(connection: Connection, ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """The names of the saved audiences each contact is a member of."""
    if not ids:
        return {}
    rows = connection.execute(
        select(_members.c.contact_id, _audiences.c.name)
        .join(_audiences, _audiences.c.id == _members.c.audience_id)
        .where(one_of(connection, _members.c.contact_id, ids))
    )
    found: dict[str, set[str]] = defaultdict(set)
    for contact_id, name in rows:
        found[contact_id].add(name)
    return {contact_id: frozenset(names) for contact_id, names in found.items()}


def predictions_of(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each contact's latest predicted ``p_alive``, ``clv`` and ``churn_band`` (contacts the
    latest ``clv`` run did not score are absent)."""
    if not ids:
        return {}
    rows = connection.execute(
        select(
            ContactPrediction.contact_id,
            ContactPrediction.p_alive,
            ContactPrediction.clv,
            ContactPrediction.churn_band,
        ).where(one_of(connection, ContactPrediction.contact_id, ids))
    )
    return {
        contact_id: {"p_alive": p_alive, "clv": clv, "churn_band": band}
        for contact_id, p_alive, clv, band in rows
    }


def next_best_of(
    connection: Connection, ids: Sequence[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each contact's next-best suggestions, ``(kind, item)`` best rank first (contacts
    without any are absent)."""
    if not ids:
        return {}
    rows = connection.execute(
        select(_next_best.c.contact_id, _next_best.c.kind, _next_best.c.item)
        .where(one_of(connection, _next_best.c.contact_id, ids))
        .order_by(_next_best.c.contact_id, _next_best.c.rank)
    )
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for contact_id, kind, item in rows:
        found[contact_id].append((kind, item))
    return {contact_id: tuple(items) for contact_id, items in found.items()}
