"""Customers, orders and contact rows as tracking messages (pure).

Every way data enters (``POST /v1/orders``, ``lealta import``) builds the same Segment messages
here, so the one tracking pipeline applies them. Message ids are deterministic: sending the same
order or the same contact row again is recognised and stored once.

* An order is a ``track`` "Order Completed" with ``messageId`` ``order:<order id>``: an order
  is a fact, so a later copy with other content is the same message and changes nothing.
* A contact row is an ``identify`` whose ``messageId`` joins a hash of who it names and a hash
  of everything it says: re-importing an unchanged row is a no-op, a changed row applies again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize
from lealta.orders.records import OrderIn, to_event_properties
from lealta.tracking.messages import MAX_ID_LENGTH

ORDER_EVENT = "Order Completed"


@dataclass(frozen=True)
class Customer:
    """Who a message is about: at least one identifier, e-mail and phone normalised."""

    user_id: str | None = None
    email: str | None = None
    anonymous_id: str | None = None
    phone: str | None = None

    def key(self) -> str:
        """The strongest identifier as ``kind:value`` (what a contact row is "about")."""
        for kind in ("user_id", "email", "phone", "anonymous_id"):
            value = getattr(self, kind)
            if value:
                return f"{kind}:{value}"
        raise AssertionError("a Customer always has an identifier")


def check_customer(
    *,
    user_id: Any = None,
    email: Any = None,
    anonymous_id: Any = None,
    phone: Any = None,
    region: str = "ES",
) -> Customer:
    """Validate the identifiers of a customer; at least one is required.

    Raises
    ------
    InvalidInput
        Naming the field: ``email`` or ``phone`` that cannot be read, an identifier too long,
        or ``user_id`` when nothing identifies the customer.
    """
    values = {"user_id": user_id, "email": email, "anonymous_id": anonymous_id, "phone": phone}
    found: dict[str, str] = {}
    for kind, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidInput(f"{kind} must be a string", field=kind)
        text = str(value).strip()
        if kind in ("user_id", "anonymous_id") and len(text) > MAX_ID_LENGTH:
            raise InvalidInput(f"{kind} is longer than {MAX_ID_LENGTH} characters", field=kind)
        found[kind] = normalize(kind, text, region)
    if not found:
        raise InvalidInput(
            "the customer needs an identifier: user_id, email, phone or anonymous_id",
            field="user_id",
        )
    return Customer(**found)


def identity_fields(customer: Customer) -> dict[str, Any]:
    """``userId``/``anonymousId`` and ``context.traits`` (e-mail, phone) naming ``customer``.

    The Segment spec needs a ``userId`` or an ``anonymousId``. A customer known only by e-mail
    or phone gets a stable anonymous id derived from it (``lealta-email-<hash>``), so the
    message is valid and every message about that address reaches the same contact.
    """
    fields: dict[str, Any] = {}
    if customer.user_id:
        fields["userId"] = customer.user_id
    if customer.anonymous_id:
        fields["anonymousId"] = customer.anonymous_id
    traits = {k: v for k, v in (("email", customer.email), ("phone", customer.phone)) if v}
    if traits:
        fields["context"] = {"traits": traits}
    if not customer.user_id and not customer.anonymous_id:
        kind, value = next(iter(traits.items()))
        fields["anonymousId"] = f"lealta-{kind}-{_digest(value, 24)}"
    return fields


def order_message_id(order_id: str) -> str:
    """``order:<id>``; an id too long for a message id is replaced by its hash."""
    message_id = f"order:{order_id}"
    if len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return f"order:h-{_digest(order_id, 40)}"


def order_message(customer: Customer, order: OrderIn) -> dict[str, Any]:
    """The ``Order Completed`` message recording ``order`` for ``customer``."""
    return {
        "type": "track",
        "event": ORDER_EVENT,
        **identity_fields(customer),
        "properties": to_event_properties(order),
        "timestamp": order.placed_at.isoformat(),
        "messageId": order_message_id(order.id),
    }


def contact_message(
    customer: Customer, traits: Mapping[str, Any], *, timestamp: str | None = None
) -> dict[str, Any]:
    """An ``identify`` message setting ``traits`` on ``customer``.

    Its ``messageId`` is ``import-contact:<hash of the key>:<hash of the content>``: the same
    row imported twice is one message; a row whose values changed is a new one.
    """
    fields = identity_fields(customer)
    all_traits = {**traits, **fields.pop("context", {}).get("traits", {})}
    content = {"customer": customer.__dict__, "traits": dict(traits), "timestamp": timestamp}
    message: dict[str, Any] = {
        "type": "identify",
        **fields,
        "traits": all_traits,
        "messageId": f"import-contact:{_digest(customer.key(), 20)}:{content_hash(content)}",
    }
    if timestamp is not None:
        message["timestamp"] = timestamp
    return message


def content_hash(value: Any, length: int = 20) -> str:
    """A short, stable hash of a JSON-able value (keys sorted)."""
    return hashlib.sha256(
        orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    ).hexdigest()[:length]


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]
