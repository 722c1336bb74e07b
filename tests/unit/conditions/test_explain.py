"""Why a person is in or out, condition by condition, in words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lealta.conditions import ContactView, EventView, OrderView, parse
from lealta.conditions.explain import describe, explain

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _viewed(days: float, category: str) -> EventView:
    return EventView(
        "Product Viewed", "track", NOW - dt.timedelta(days=days), {"category": category}
    )


PERSON = ContactView(
    id="c1",
    attributes={"country": "ES"},
    tags=frozenset({"vip"}),
    events=[_viewed(1, "shoes"), _viewed(13, "shoes"), _viewed(15, "shoes"), _viewed(2, "hats")],
    orders=[
        OrderView(
            NOW - dt.timedelta(days=3),
            Decimal("25.10"),
            [{"category": "shoes", "quantity": 2, "price": "10.05"}],
        )
    ],
    rfm={"r": 3, "f": 2, "m": 5},
    points=1200,
)
SHOES_TWICE_IN_14_DAYS = {
    "kind": "event_count",
    "event": "Product Viewed",
    "where": [{"property": "category", "op": "equals", "value": "shoes"}],
    "within_days": 14,
    "gte": 3,
}


def test_an_event_count_says_how_many_were_seen_and_how_many_are_needed() -> None:
    answer = explain(parse(SHOES_TWICE_IN_14_DAYS), PERSON, NOW)
    assert not answer.held
    assert answer.why == (
        "'Product Viewed' 2 times (category equals 'shoes') in the last 14 days; "
        "needs 'Product Viewed' (category equals 'shoes') in the last 14 days: at least 3"
    )


def test_every_condition_of_a_tree_gets_its_own_answer_with_its_place() -> None:
    tree = parse(
        {
            "kind": "all",
            "conditions": [
                {"kind": "attribute", "name": "country", "op": "equals", "value": "ES"},
                SHOES_TWICE_IN_14_DAYS,
                {"kind": "not", "condition": {"kind": "tag", "tag": "vip"}},
                {"kind": "bought", "category": "shoes", "measure": "amount", "gte": 20},
                {"kind": "rfm", "r": {"gte": 4}},
                {"kind": "loyalty_points", "gte": 500},
            ],
        }
    )
    answer = explain(tree, PERSON, NOW)
    assert not answer.held
    assert answer.why == "3 of 6 conditions hold; needs all"
    held = {part.path: (part.held, part.why) for part in answer.parts}
    assert held["condition.conditions.0"] == (True, "country is 'ES'; needs country equals 'ES'")
    assert held["condition.conditions.2"] == (
        False,
        "the condition inside holds; needs it not to",
    )
    assert answer.parts[2].parts[0].why == "has the tag 'vip'; needs has the tag 'vip'"
    assert held["condition.conditions.3"] == (
        True,
        "amount spent of category 'shoes': 20.10; "
        "needs amount spent of category 'shoes': at least 20",
    )
    assert held["condition.conditions.4"] == (False, "F 2, M 5, R 3; needs R at least 4")
    assert held["condition.conditions.5"] == (
        True,
        "1,200 loyalty points; needs loyalty points at least 500",
    )
    assert answer.as_dict()["parts"][0]["path"] == "condition.conditions.0"


def test_any_holds_with_one_and_describes_itself() -> None:
    tree = parse(
        {
            "kind": "any",
            "conditions": [{"kind": "tag", "tag": "new"}, {"kind": "tag", "tag": "vip"}],
        }
    )
    assert explain(tree, PERSON, NOW).why == "1 of 2 conditions hold; needs at least one"
    assert describe(tree) == "any of 2 conditions"
    assert (
        describe(parse({"kind": "audience", "audience": "Readers"})) == "in the audience 'Readers'"
    )


def test_next_best_is_put_in_words_with_what_was_suggested() -> None:
    wanted = parse({"kind": "next_best", "category": "shoes", "top": 2})
    assert describe(wanted) == "'shoes' is among the 2 next-best categories"
    assert (
        describe(parse({"kind": "next_best", "product": "p1"})) == "'p1' is the next-best product"
    )
    suggested = ContactView(id="c2", next_best=[("category", "hats"), ("category", "shoes")])
    answer = explain(wanted, suggested, NOW)
    assert answer.held
    assert answer.why.startswith("next-best categories: 'hats', 'shoes'; needs")
    assert not explain(wanted, ContactView(id="c3"), NOW).held
    assert "no next-best suggestions yet" in explain(wanted, ContactView(id="c3"), NOW).why
