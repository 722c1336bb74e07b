"""The demo's order lines: items spread over products that go together, and what comes next."""

from __future__ import annotations

import numpy as np
import pytest

from lealta.demo.baskets import BY_SKU, COMES_NEXT, GOES_WITH, PRODUCTS, BasketMaker
from lealta.demo.catalogue import CATEGORIES


def maker(seed: int = 1) -> BasketMaker:
    return BasketMaker(np.random.default_rng(seed))


@pytest.mark.parametrize("items", [1, 2, 3, 7])
def test_quantities_add_up_to_the_orders_items_over_at_most_that_many_products(
    items: int,
) -> None:
    baskets = maker()
    for n in range(300):
        lines = baskets.lines(f"C{n}", CATEGORIES[n % len(CATEGORIES)], items, 100.0)
        assert sum(line["quantity"] for line in lines) == items
        assert 1 <= len(lines) <= items
        assert len({line["product_id"] for line in lines}) == len(lines)


def test_the_first_line_is_of_the_orders_category() -> None:
    baskets = maker()
    for n in range(200):
        category = CATEGORIES[n % len(CATEGORIES)]
        assert baskets.lines(f"C{n}", category, 3, 50.0)[0]["category"] == category


def test_the_lines_share_the_orders_amount_by_list_price() -> None:
    lines = maker().lines("C1", "Beauty", 2, 33.0)
    total = sum(line["price"] * line["quantity"] for line in lines)
    assert total == pytest.approx(33.0, abs=0.01 * len(lines))
    if len(lines) == 2:  # shampoo and conditioner have the same list price
        assert lines[0]["price"] / BY_SKU[lines[0]["product_id"]].price == pytest.approx(
            lines[1]["price"] / BY_SKU[lines[1]["product_id"]].price, rel=0.01
        )


def test_a_single_item_order_has_one_line() -> None:
    baskets = maker()
    assert all(len(baskets.lines(f"C{n}", "Shoes", 1, 80.0)) == 1 for n in range(100))


def test_sneakers_often_come_with_socks_and_sandals_never_do() -> None:
    baskets = maker()
    held = [
        {line["product_id"] for line in baskets.lines(f"C{n}", "Shoes", 2, 90.0)}
        for n in range(2000)
    ]
    sneakers = [skus for skus in held if "SHO-SNEAKERS" in skus]
    with_socks = sum("APP-SOCKS" in skus for skus in sneakers) / len(sneakers)
    assert 0.45 <= with_socks <= 0.75  # drawn at 60 %
    sandals = [skus for skus in held if "SHO-SANDALS" in skus]
    assert not any("APP-SOCKS" in skus for skus in sandals)  # nothing pairs them


def test_a_customers_next_order_often_holds_what_follows_their_last_product() -> None:
    baskets = maker()
    followed = 0
    for n in range(500):
        baskets.last[f"C{n}"] = "APP-TROUSERS"
        followed += baskets.lines(f"C{n}", "Shoes", 1, 80.0)[0]["product_id"] == "SHO-SNEAKERS"
    assert followed / 500 >= 0.7  # 60 % by the rule + 40 % x sneakers' share of shoes (52 %)


def test_the_same_seed_gives_the_same_lines() -> None:
    first, second = maker(5), maker(5)
    for n in range(100):
        assert first.lines(f"C{n % 9}", "Apparel", 3, 70.0) == second.lines(
            f"C{n % 9}", "Apparel", 3, 70.0
        )


def test_every_rule_names_products_of_the_catalogue_in_known_categories() -> None:
    assert {p.category for p in PRODUCTS} == set(CATEGORIES)
    named = set(GOES_WITH) | set(COMES_NEXT) | set(COMES_NEXT.values())
    named |= {sku for pairs in GOES_WITH.values() for sku, _share in pairs}
    assert named <= set(BY_SKU)
    assert all(0 < share < 1 for pairs in GOES_WITH.values() for _sku, share in pairs)
