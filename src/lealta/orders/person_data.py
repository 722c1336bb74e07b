"""Orders, for export, erasure and merges (see :mod:`lealta.persons.registry`)."""

from __future__ import annotations

from lealta.orders.tables import Order
from lealta.persons.registry import PersonRows
from lealta.persons.rows import kept, listed, moved

_COLUMNS = (
    "external_id",
    "placed_at",
    "amount",
    "currency",
    "channel",
    "payment_method",
    "due_date",
    "paid_date",
    "items",
)

ROWS = (
    PersonRows(
        table=Order.__tablename__,
        erase=kept(Order),
        erased="kept (amount, currency, dates, items, the shop's order id): revenue totals "
        "and bookkeeping must not change when a customer leaves; with no identifiers left "
        "they no longer point to a person inside Lealta",
        merge=moved(Order),
        merged="moved to the survivor",
        sections=(("orders", listed(Order, Order.placed_at, _COLUMNS)),),
        reported_as="orders_kept",
    ),
)
