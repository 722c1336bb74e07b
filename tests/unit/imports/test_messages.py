"""Customers, orders and contact rows as tracking messages."""

from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from lealta.imports.messages import (
    check_customer,
    contact_message,
    identity_fields,
    order_message,
    order_message_id,
)
from lealta.orders.records import parse_order


def test_a_customer_needs_one_identifier_and_a_readable_email() -> None:
    assert check_customer(email=" Ana@Example.COM ").email == "ana@example.com"
    assert check_customer(user_id=17850).user_id == "17850"
    assert check_customer(phone="600 123 456", region="ES").phone == "+34600123456"
    with pytest.raises(InvalidInput) as missing:
        check_customer(user_id="  ")
    assert missing.value.field == "user_id"
    with pytest.raises(InvalidInput) as bad:
        check_customer(user_id="u1", email="nope")
    assert bad.value.field == "email"


def test_an_email_only_customer_gets_a_stable_anonymous_id() -> None:
    first = identity_fields(check_customer(email="ana@example.com"))
    again = identity_fields(check_customer(email="ANA@example.com"))
    assert first == again
    assert first["anonymousId"].startswith("lealta-email-")
    assert first["context"] == {"traits": {"email": "ana@example.com"}}
    assert "anonymousId" not in identity_fields(check_customer(user_id="u", email="a@b.co"))


def test_order_message_ids_are_the_order_id_and_fit_the_limit() -> None:
    assert order_message_id("A-1") == "order:A-1"
    long_id = order_message_id("x" * 128)
    assert long_id.startswith("order:h-")
    assert len(long_id) <= 128
    assert long_id == order_message_id("x" * 128)


def test_an_order_message_is_an_order_completed_track() -> None:
    order = parse_order({"id": "A-1", "placed_at": "2025-01-02T03:04:05Z", "amount": "9.5"})
    message = order_message(check_customer(user_id="u1"), order)
    assert message["type"] == "track"
    assert message["event"] == "Order Completed"
    assert message["userId"] == "u1"
    assert message["messageId"] == "order:A-1"
    assert message["properties"]["order_id"] == "A-1"
    assert message["properties"]["total"] == 9.5
    assert message["timestamp"].startswith("2025-01-02T03:04:05")


def test_contact_message_ids_change_with_the_content_only() -> None:
    who = check_customer(user_id="c1", email="ana@example.com")
    one = contact_message(who, {"city": "Madrid"})
    same = contact_message(who, {"city": "Madrid"})
    moved = contact_message(who, {"city": "Sevilla"})
    other = contact_message(check_customer(user_id="c2"), {"city": "Madrid"})
    assert one["messageId"] == same["messageId"]
    assert one["messageId"] != moved["messageId"]
    assert one["messageId"].split(":")[1] == moved["messageId"].split(":")[1]
    assert one["messageId"].split(":")[1] != other["messageId"].split(":")[1]
    assert one["traits"] == {"city": "Madrid", "email": "ana@example.com"}
    assert one["type"] == "identify"
