"""Some contacts' orders as an Arrow table shaped like the store's export.

A card, a batch of templates and a partial review each assign tiers to a few customers with
the prepared assignment (:mod:`lealta.loyalty.prepared`), which reads orders shaped like
:func:`lealta.segmentation.store.export_orders`'s file. Here they come from the ``orders``
table for the given contacts only, read in chunks of ids (SQLite's bound-parameter limit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.orders.tables import Order

CHUNK = 1_000


def orders_of(session: Session, contact_ids: Sequence[str]) -> Any:
    """The orders of ``contact_ids`` as a ``pyarrow.Table`` of the store export's columns
    (``customer_id``, ``order_id``, ``placed_at`` in UTC without zone, ``amount``, then
    ``payment_method``, ``due_date``, ``paid_date`` and ``email``, all null: the assignment
    reads none of them)."""
    import pyarrow as pa

    ids = list(dict.fromkeys(contact_ids))
    rows: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        rows += session.execute(
            select(Order.contact_id, Order.external_id, Order.placed_at, Order.amount).where(
                Order.contact_id.in_(ids[start : start + CHUNK])
            )
        ).all()
    customers, numbers, moments, amounts = list(zip(*rows, strict=True)) or [()] * 4
    count = len(rows)
    return pa.table(
        {
            "customer_id": pa.array(customers, pa.string()),
            "order_id": pa.array(numbers, pa.string()),
            "placed_at": pa.array([_naive_utc(m) for m in moments], pa.timestamp("us")),
            "amount": pa.array([float(a) for a in amounts], pa.float64()),
            "payment_method": pa.nulls(count, pa.string()),
            "due_date": pa.nulls(count, pa.date32()),
            "paid_date": pa.nulls(count, pa.date32()),
            "email": pa.nulls(count, pa.string()),
        }
    )


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
