"""The loyalty badge on a shop's page in a real browser: a visitor who becomes a Gold member
sees "You are Gold: shipping is on us" with the benefit's code in the slot, from the shipped
example template placed for Gold and Platinum; before, the page keeps its own content."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest
import yaml

from lealta.messages.catalog import read_documents
from tests.browser.conftest import Lealta, Site, wait_for
from tests.browser.test_onsite import onsite  # noqa: F401  (the app, CORS open to the site)
from tests.integration.loyalty.helpers import PROGRAM

pytestmark = pytest.mark.browser


def _ok(lealta: Lealta, method: str, path: str, body: Any) -> Any:
    status, text = lealta.call(method, path, body=body, headers=lealta.admin)
    assert 200 <= status < 300, text
    return json.loads(text) if text else None


def _slot(page: Any) -> str:
    selector = "[data-lealta-slot=badge]:not([data-lealta-filled=pending])[data-lealta-filled]"
    page.wait_for_selector(selector)
    return str(page.get_attribute("[data-lealta-slot=badge]", "data-lealta-filled"))


def test_a_visitor_who_becomes_gold_sees_the_badge_with_the_shipping_code(
    onsite: Lealta,  # noqa: F811
    site: Site,
    context: Any,
) -> None:
    text = resources.files("lealta.onsite").joinpath("examples/loyalty-badge.yaml")
    [badge] = read_documents(text.read_text("utf-8"))
    _ok(onsite, "PUT", "/v1/templates/loyalty-badge", {"channel": "onsite", "body": badge["body"]})
    placement = {"slot": "badge", "template": "loyalty-badge", "audience": {"tiers": ["Gold"]}}
    _ok(onsite, "PUT", "/v1/onsite/placements/loyalty-badge", placement)
    _ok(onsite, "PUT", "/v1/loyalty/program", yaml.safe_load(PROGRAM))
    url = site.add(
        "/account",
        f'<script src="{onsite.url}/t.js" data-key="{onsite.track_key}" async></script>'
        f'<script src="{onsite.url}/onsite.js" async></script>'
        '<p data-lealta-slot="badge">Join our loyalty club</p>',
    )
    page = context.new_page()
    page.goto(url)
    assert _slot(page) == "none"  # nobody knows this visitor: the page's own words stay
    assert page.inner_text("[data-lealta-slot=badge]") == "Join our loyalty club"
    page.evaluate("lealta.identify('gina', {first_name: 'Gina'})")
    wait_for(lambda: onsite.events(user_id="gina"), what="the identify")

    today = dt.datetime.now(dt.UTC).date()
    orders = [
        {
            "user_id": "gina",
            "id": f"g-{n}",
            "placed_at": f"{today - dt.timedelta(days=days)}T12:00:00Z",
            "amount": "60",
        }
        for n, days in enumerate((40, 25, 12, 4))
    ]
    _ok(onsite, "POST", "/v1/orders/batch", {"orders": orders})
    wait_for(
        lambda: len(onsite.events(user_id="gina", name="Order Completed")) == 4,
        what="the orders",
    )
    review = _ok(onsite, "POST", "/v1/loyalty/assign", None)
    assert review["tiers"]["Gold"] == 1

    page.reload()
    assert _slot(page) == "loyalty-badge"
    shown = " ".join(page.inner_text("[data-lealta-slot=badge]").split())
    assert shown == "You are Gold, Gina: shipping is on us from €50.00. Code: SHIP50"
    assert page.get_attribute(".lealta-loyalty-badge", "data-tier") == "Gold"
