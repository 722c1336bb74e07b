"""Keeping the ``orders`` table: one row per order, whichever way it arrived."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lealta.orders.records import OrderIn
from lealta.orders.tables import Order
from lealta.storage.upsert import insert_ignoring


def record_order(session: Session, contact_id: str, order: OrderIn) -> None:
    """Store ``order`` for ``contact_id``; an order id already stored is left as it is."""
    insert_ignoring(
        session,
        Order.__table__,
        [
            {
                "external_id": order.id,
                "contact_id": contact_id,
                "placed_at": order.placed_at,
                "amount": order.amount,
                "currency": order.currency,
                "channel": order.channel,
                "payment_method": order.payment_method,
                "due_date": order.due_date,
                "paid_date": order.paid_date,
                "items": [item.model_dump(mode="json", exclude_none=True) for item in order.items],
            }
        ],
        conflict=("external_id",),
    )
