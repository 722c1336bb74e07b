"""The Affinity page in Chromium: a marketer sees two categories bought together with their
lift, confidence and support, sorts the pairs, and follows "bought it" to the audience builder,
which counts the people who bought the category; on a laptop and on a phone. Screenshots are
kept in ``test-artifacts/console/``.

The server is shared with the other browser tests: the categories here carry a suffix of
their own."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.orders.tables import Order
from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.browser.test_console_audiences import DESKTOP, PASSWORD, PHONE, _open, _settled, _shot


def _orders(lealta: Lealta, suffix: str) -> None:
    """Three customers buy boots and socks together; a fourth buys boots alone."""
    boots, socks = f"boots-{suffix}", f"socks-{suffix}"
    placed = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    baskets = [[boots, socks], [boots, socks], [boots, socks], [boots]]
    orders = [
        {"id": f"aff-{suffix}-{n}", "user_id": f"aff-{suffix}-{n}", "amount": "30.00",
         "placed_at": placed.isoformat(),
         "items": [{"product_id": f"{c}-1", "category": c, "price": "15", "quantity": 1}
                   for c in basket]}
        for n, basket in enumerate(baskets)
    ]  # fmt: skip
    with lealta.services.uow.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Order)) or 0
    status, text = lealta.call(
        "POST", "/v1/orders/batch", body={"orders": orders}, headers=lealta.admin
    )
    assert status == 202, text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the server's processor stores them
        with lealta.services.uow.transaction() as session:
            if session.scalar(select(func.count()).select_from(Order)) == before + len(orders):
                return
        time.sleep(0.1)
    raise AssertionError("the orders were not stored")


def _first_item(page: Any, item: str) -> Any:
    """The table's row whose first item is ``item``."""
    first = page.locator("td.item:first-child", has_text=item)
    return page.locator("table.affinity tbody tr").filter(has=first)


@pytest.mark.browser
def test_a_marketer_browses_pairs_sorts_them_and_builds_the_buyers_audience(
    browser: Any, lealta: Lealta
) -> None:
    suffix = uuid.uuid4().hex[:6]
    marketer = f"affinity-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(
            session, email=marketer, role="marketer", password=PASSWORD, now=dt.datetime.now(dt.UTC)
        )
    _orders(lealta, suffix)
    opened: list[Any] = []
    try:
        page = _open(opened, browser, lealta, marketer, "/audiences")
        page.get_by_role("link", name="Product affinity").click()
        page.wait_for_url(lealta.url + "/affinity")
        both = page.locator("table.affinity tbody tr", has_text=f"boots-{suffix}")
        assert both.count() == 2  # boots with socks, and socks with boots
        row = _first_item(page, f"boots-{suffix}")
        cells = row.locator("td").all_inner_texts()
        assert f"socks-{suffix}" in cells[1]
        assert cells[3].strip().endswith("75.0%")  # of the 4 orders with boots, 3 have socks
        assert cells[5].strip().endswith("3")  # together in 3 orders
        assert "100.0%" in _first_item(page, f"socks-{suffix}").locator("td").nth(3).inner_text()
        _shot(page, "affinity")
        page.get_by_role("link", name="Confidence").click()
        page.wait_for_url("**/affinity?*sort=confidence*")
        assert page.locator('th[aria-sort="descending"]').inner_text().startswith("Confidence")
        _first_item(page, f"boots-{suffix}").get_by_role("link", name="bought it").first.click()
        page.wait_for_url("**/audiences/new?*")
        _settled(page, "4")  # every customer bought boots
        assert page.locator("#f-c--kind").input_value() == "bought"
        assert page.locator("#f-c--category").input_value() == f"boots-{suffix}"

        phone = _open(opened, browser, lealta, marketer, "/affinity", viewport=PHONE)
        assert _first_item(phone, f"boots-{suffix}").count() == 1
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        _shot(phone, "affinity-phone")
    finally:
        for page in opened:
            page.context.close()
    assert [e for page in opened for e in page.errors] == []
    assert DESKTOP["width"] > PHONE["width"]
