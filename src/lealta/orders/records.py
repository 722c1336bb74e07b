"""Orders as the platform receives them: one validated shape, from the API, imports or events.

``OrderIn`` is the strict shape (``POST /v1/orders``, ``lealta import orders``). An ``Order
Completed`` event carries the same facts in the Segment e-commerce spec's words (``order_id``,
``total``/``revenue``, ``products``); :func:`from_event_properties` reads them, and
:func:`to_event_properties` writes an ``OrderIn`` as such an event, so every order reaches the
profile through the one tracking pipeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lealta.errors import InvalidInput
from lealta.moments import Moment


class Item(BaseModel):
    """One line of an order."""

    model_config = ConfigDict(extra="allow")

    product_id: str | None = None
    sku: str | None = None
    name: str | None = None
    category: str | None = None
    price: Decimal | None = None
    quantity: int = Field(1, ge=0)


class OrderIn(BaseModel):
    """An order: who, when, how much, how it was paid."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128, description="The shop's order id (unique).")
    placed_at: Moment = Field(
        description="When the order was placed (ISO 8601; years 1900 to 2200)."
    )
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2, description="Order total.")
    currency: str = Field("EUR", pattern=r"^[A-Za-z]{3}$")
    items: list[Item] = Field(default_factory=list)
    channel: str | None = Field(None, max_length=64, description="web, app, store, phone …")
    payment_method: str | None = Field(None, max_length=64, description="card, invoice …")
    due_date: dt.date | None = Field(None, description="Invoices: when payment is due.")
    paid_date: dt.date | None = Field(None, description="When it was paid (RFMP promptness).")

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


def parse_order(values: Mapping[str, Any]) -> OrderIn:
    """Validate ``values`` as an order; the error names the first bad field."""
    try:
        return OrderIn.model_validate(dict(values))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None


def from_event_properties(
    properties: Mapping[str, Any], *, placed_at: dt.datetime, fallback_id: str
) -> OrderIn:
    """The order an ``Order Completed`` event describes."""
    products = properties.get("products") or properties.get("items") or []
    if not isinstance(products, list):
        raise InvalidInput("products must be a list", field="properties.products")
    amount = next(
        (properties[k] for k in ("total", "revenue", "value", "amount") if k in properties), None
    )
    if amount is None:
        amount = sum(
            Decimal(str(p.get("price") or 0)) * int(p.get("quantity") or 1)
            for p in products
            if isinstance(p, dict)
        )
    values: dict[str, Any] = {
        "id": str(properties.get("order_id") or properties.get("checkout_id") or fallback_id),
        "placed_at": placed_at,
        "amount": amount,
        "currency": properties.get("currency") or "EUR",
        "items": [p for p in products if isinstance(p, dict)],
    }
    for key in ("channel", "payment_method", "due_date", "paid_date"):
        if properties.get(key) is not None:
            values[key] = properties[key]
    return parse_order(values)


def to_event_properties(order: OrderIn) -> dict[str, Any]:
    """``order`` as the properties of an ``Order Completed`` event."""
    properties: dict[str, Any] = {
        "order_id": order.id,
        "total": float(order.amount),
        "currency": order.currency,
        "products": [item.model_dump(mode="json", exclude_none=True) for item in order.items],
    }
    for key in ("channel", "payment_method", "due_date", "paid_date"):
        value = getattr(order, key)
        if value is not None:
            properties[key] = value.isoformat() if isinstance(value, dt.date) else value
    return properties
