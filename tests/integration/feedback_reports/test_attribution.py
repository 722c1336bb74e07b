"""Orders credited to the message last clicked before them, once, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from lealta.feedback.attribution import Purchase, attribute_orders, attribute_since
from lealta.identity.service import merge, resolve
from lealta.orders.tables import Order
from tests.integration.feedback_reports.conftest import T0, Shop

D = dt.timedelta(days=1)


def orders(shop: Shop, *external_ids: str) -> list[Order]:
    with shop.uow.transaction() as session:
        rows = list(session.scalars(select(Order).where(Order.external_id.in_(external_ids))))
        session.expunge_all()
        return rows


def test_an_order_after_a_click_is_credited_with_its_revenue_and_timeline_event(
    shop: Shop,
) -> None:
    ana = shop.person("ana@example.com")
    first = shop.sent(ana, template="welcome")
    second = shop.sent(ana, template="promo", at=T0 + D)
    shop.interact(first, "clicked", T0 + dt.timedelta(hours=1), url="https://shop.example/a")
    shop.interact(second, "clicked", T0 + 2 * D, url="https://shop.example/b")
    shop.order(ana, "o-1", T0 + 3 * D, "42.10")
    with shop.uow.transaction() as session:
        credits = attribute_orders(session, orders(shop, "o-1"), T0 + 10 * D)
    assert [(c.order_id, c.outbox_id, c.revenue) for c in credits] == [
        ("o-1", second, Decimal("42.10"))
    ]
    (converted,) = shop.interactions("converted")
    assert (converted.outbox_id, converted.order_id, converted.revenue) == (
        second,
        "o-1",
        Decimal("42.10"),
    )
    assert converted.dedupe_key == "conv:o-1"
    (event,) = shop.events(ana, "Message Converted")
    assert event.properties["order_id"] == "o-1"
    assert event.properties["template"] == "promo"


def test_attributing_again_credits_nothing_twice(shop: Shop) -> None:
    ana = shop.person("ana@example.com")
    message = shop.sent(ana)
    shop.interact(message, "clicked", T0)
    shop.order(ana, "o-1", T0 + D, "10.00")
    purchase = Purchase("o-1", ana, T0 + D, Decimal("10.00"))
    with shop.uow.transaction() as session:
        assert len(attribute_orders(session, [purchase], T0 + 2 * D)) == 1
    with shop.uow.transaction() as session:
        assert attribute_orders(session, [purchase], T0 + 2 * D) == []
        assert attribute_since(session, T0 - D, now=T0 + 2 * D) == 0
    assert len(shop.interactions("converted")) == 1


def test_the_window_opens_and_future_orders(shop: Shop) -> None:
    ana = shop.person("ana@example.com")
    bea = shop.person("bea@example.com")
    clicked = shop.sent(ana)
    opened = shop.sent(bea)
    shop.interact(clicked, "clicked", T0)
    shop.interact(opened, "opened", T0)
    shop.order(ana, "late", T0 + 5 * D + dt.timedelta(minutes=1), "5.00")  # window is 5 days
    shop.order(ana, "in-time", T0 + 5 * D, "6.00")
    shop.order(bea, "after-open", T0 + D, "7.00")
    shop.order(ana, "future", T0 + 2 * D, "8.00")
    with shop.uow.transaction() as session:
        # "future" is after `now`: left for a later run.
        assert attribute_since(session, T0 - D, now=T0 + D + dt.timedelta(hours=1)) == 0
        assert attribute_since(session, T0 - D, now=T0 + 30 * D) == 2
    credited = {i.order_id for i in shop.interactions("converted")}
    assert credited == {"in-time", "future"}
    with shop.uow.transaction() as session:
        assert attribute_since(session, T0 - D, now=T0 + 30 * D, opens=True) == 1
    assert {i.order_id: i.outbox_id for i in shop.interactions("converted")}["after-open"] == opened
    with shop.uow.transaction() as session:
        assert attribute_since(session, T0 - D, now=T0 + 30 * D, days=6) == 1  # "late" now


def test_a_click_made_before_two_profiles_merged_counts_for_the_survivor(shop: Shop) -> None:
    anonymous = shop.person("old-ana@example.com")
    message = shop.sent(anonymous)
    shop.interact(message, "clicked", T0)
    with shop.uow.transaction() as session:
        survivor = resolve(session, {"email": "ana@example.com"}, T0)
        gone = resolve(session, {"email": "old-ana@example.com"}, T0)
        merge(session, gone, into=survivor, now=T0)
        survivor_id = survivor.id
    shop.order(survivor_id, "o-1", T0 + D, "30.00")
    with shop.uow.transaction() as session:
        assert attribute_since(session, T0 - D, now=T0 + 2 * D) == 1
    assert shop.interactions("converted")[0].outbox_id == message
