"""Orders: one stored for a person the way the orders API stores it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from lealta.orders.records import OrderIn
from lealta.orders.service import record_order


def order(
    session: Session,
    contact_id: str,
    order_id: str,
    *,
    at: dt.datetime,
    amount: str | Decimal = "10",
    currency: str = "EUR",
    items: Iterable[Mapping[str, Any]] = (),
    **more: Any,
) -> None:
    """Order ``order_id`` of ``contact_id`` placed ``at`` (``more``: channel, payment_method,
    due_date, paid_date); an id already stored is left as it is."""
    placed = OrderIn.model_validate(
        {
            "id": order_id,
            "placed_at": at,
            "amount": Decimal(amount),
            "currency": currency,
            "items": list(items),
            **more,
        }
    )
    record_order(session, contact_id, placed)
