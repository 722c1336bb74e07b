"""The Affinity page says what its lift means for the view shown: together in one order, or
one after the other (where one-time buyers keep broad categories' lifts below 1)."""

from __future__ import annotations

import datetime as dt
from html import unescape

from tests.integration.affinity.test_next_best_store import START, post_orders
from tests.integration.conftest import Api
from tests.integration.console.test_console import _sign_in, _user


def test_the_lift_is_explained_for_pairs_together_and_in_sequence(api: Api) -> None:
    post_orders(api)
    _user(api, "vic@example.com", "viewer")
    assert _sign_in(api.client, "vic@example.com") == 303
    together = unescape(api.client.get("/affinity").text)
    assert "bought together more often than chance would have it" in together
    assert "go on to buy" not in together
    sequence = unescape(api.client.get("/affinity?sequence=1").text)
    assert "the first's buyers go on to buy the second more often than" in sequence
    assert "with many one-time buyers lifts of broad categories stay below 1" in sequence
    assert "bought together more often" not in sequence


def test_products_read_by_their_latest_name_with_the_id_beside_it(api: Api) -> None:
    def order(customer: str, order_id: str, names: tuple[str, str]) -> dict[str, object]:
        return {
            "user_id": customer,
            "id": order_id,
            "placed_at": (START + dt.timedelta(days=len(order_id))).isoformat(),
            "amount": "40.00",
            "items": [
                {"product_id": "APP-TSHIRT", "name": names[0], "category": "Apparel"},
                {"product_id": "APP-SOCKS", "name": names[1], "category": "Hosiery"},
            ],
        }

    batch = [
        order("ana", "o1", ("Tee", "Socks")),
        order("ben", "o22", ("T-shirt", "Socks (3 pairs)")),  # renamed since: the latest wins
    ]
    answer = api.client.post("/v1/orders/batch", json={"orders": batch}, headers=api.admin)
    assert answer.json()["accepted"] == 2
    api.drain()
    _user(api, "vic@example.com", "viewer")
    assert _sign_in(api.client, "vic@example.com") == 303
    page = unescape(api.client.get("/affinity?by=product").text)
    assert '<span class="name">T-shirt</span> <span class="code">APP-TSHIRT</span>' in page
    assert '<span class="name">Socks (3 pairs)</span>' in page
    assert ">Tee<" not in page
    assert "bought=APP-TSHIRT&by=product&name=T-shirt" in page  # the rule keeps the id
    builder = unescape(
        api.client.get("/audiences/new?bought=APP-TSHIRT&by=product&name=T-shirt").text
    )
    assert "Bought T-shirt (APP-TSHIRT)" in builder
    by_category = unescape(api.client.get("/affinity").text)
    assert '<span class="name">Apparel</span>' in by_category
    assert 'class="code"' not in by_category
    rest = api.client.get("/v1/affinity?by=product&min_count=1", headers=api.admin).json()
    named = {(p["item_a"], p["name_a"], p["item_b"], p["name_b"]) for p in rest["pairs"]}
    assert ("APP-TSHIRT", "T-shirt", "APP-SOCKS", "Socks (3 pairs)") in named
    categories = api.client.get("/v1/affinity?min_count=1", headers=api.admin).json()
    assert {(p["name_a"], p["name_b"]) for p in categories["pairs"]} == {(None, None)}
