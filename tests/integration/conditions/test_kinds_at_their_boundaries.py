"""Every condition kind at its boundaries, asked of SQL and of each person (both must agree;
``members`` checks it), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from lealta.errors import InvalidInput
from tests.integration.conditions.conftest import Members
from tests.integration.conditions.population import Bought, Happened, Person

VIEWED = "Product Viewed"


def test_attributes_are_tested_with_the_property_operators(members: Members) -> None:
    people = [
        Person(attributes={"country": "ES", "visits": "12", "tags": ["a", 2], "vip": True}),
        Person(attributes={"country": "es", "visits": 3, "name.first": "Ana"}),
        Person(attributes={"name": {"first": "Bo"}, "visits": None}),
    ]
    assert members(
        people, {"kind": "attribute", "name": "country", "op": "equals", "value": "ES"}
    ) == [0]
    assert members(
        people, {"kind": "attribute", "name": "country", "op": "not_equals", "value": "ES"}
    ) == [1]
    assert members(people, {"kind": "attribute", "name": "visits", "op": "gte", "value": 12}) == [0]
    assert members(people, {"kind": "attribute", "name": "visits", "op": "lt", "value": 12}) == [1]
    assert members(
        people, {"kind": "attribute", "name": "visits", "op": "equals", "value": 12.0}
    ) == [0]  # numeric text equals a number
    assert (
        members(people, {"kind": "attribute", "name": "visits", "op": "equals", "value": "12.0"})
        == []
    )  # but text equals text only as written
    assert members(
        people, {"kind": "attribute", "name": "visits", "op": "exists", "value": False}
    ) == [2]
    assert members(
        people, {"kind": "attribute", "name": "tags", "op": "contains", "value": "2"}
    ) == [0]
    assert members(people, {"kind": "attribute", "name": "vip", "op": "equals", "value": True}) == [
        0
    ]
    assert members(people, {"kind": "attribute", "name": "vip", "op": "equals", "value": 1}) == []
    assert members(
        people, {"kind": "attribute", "name": "country", "op": "in", "value": ["es", "FR"]}
    ) == [1]
    assert members(
        people, {"kind": "attribute", "name": "name.first", "op": "starts_with", "value": "A"}
    ) == [1]
    assert members(
        people, {"kind": "attribute", "name": "name.first", "op": "ends_with", "value": "o"}
    ) == [2]
    assert members(
        people, {"kind": "attribute", "name": "country", "op": "matches", "value": "E?"}
    ) == [0]
    assert members(
        people, {"kind": "attribute", "name": "country", "op": "contains", "value": "s"}
    ) == [1]


def test_a_regular_expression_is_refused_by_the_sql_side_naming_the_field(members: Members) -> None:
    with pytest.raises(InvalidInput) as refused:
        members([Person()], {"kind": "attribute", "name": "country", "op": "regex", "value": "^E"})
    assert refused.value.field == "condition"
    assert "regex" in str(refused.value)


def test_tags_lists_stages_and_consent_in_force(members: Members) -> None:
    people = [
        Person(
            tags=frozenset({"vip"}),
            lists={"news": "subscribed"},
            stage="Lead",
            consents=[("email", "granted"), ("email", "denied")],
        ),
        Person(
            lists={"news": "pending"},
            stage="Customer",
            consents=[("email", "denied"), ("email", "granted")],
        ),
        Person(),
    ]
    assert members(people, {"kind": "tag", "tag": "vip"}) == [0]
    assert members(people, {"kind": "tag", "tag": "vip", "present": False}) == [1, 2]
    assert members(people, {"kind": "list", "list": "news"}) == [0]
    assert members(people, {"kind": "list", "list": "news", "status": "pending"}) == [1]
    assert members(people, {"kind": "stage", "in": ["Lead", "Customer"]}) == [0, 1]
    assert members(people, {"kind": "not", "condition": {"kind": "stage", "in": ["Lead"]}}) == [
        1,
        2,
    ]
    assert members(people, {"kind": "consent", "channel": "email"}) == [1]
    assert members(people, {"kind": "consent", "channel": "email", "status": "denied"}) == [0]


def test_scores_are_inclusive_at_both_ends(members: Members) -> None:
    people = [Person(score=10.0), Person(score=20.0), Person(score=20.5)]
    assert members(people, {"kind": "score", "gte": 10, "lte": 20}) == [0, 1]
    assert members(people, {"kind": "score", "gte": 20.5}) == [2]


def test_rfm_segment_cluster_and_score_ranges(members: Members) -> None:
    people = [
        Person(rfm=(5, 4, 3, None, "Champions", "Big spenders")),
        Person(rfm=(4, 1, 1, 2, "At Risk", None)),
        Person(),
    ]
    assert members(people, {"kind": "segment", "in": ["Champions"]}) == [0]
    assert members(people, {"kind": "cluster", "in": ["Big spenders"]}) == [0]
    assert members(people, {"kind": "rfm", "r": {"gte": 4}}) == [0, 1]
    assert members(people, {"kind": "rfm", "r": {"gte": 4, "lte": 4}, "f": {"lte": 1}}) == [1]
    assert members(people, {"kind": "rfm", "p": {"gte": 1}}) == [1]  # unscored p never matches
    assert members(people, {"kind": "not", "condition": {"kind": "rfm", "m": {"gte": 1}}}) == [2]


def test_predicted_value_ranges_and_churn_band(members: Members) -> None:
    people = [
        Person(prediction=(0.3, 120.0, "medium")),
        Person(prediction=(0.29, 10.05, "high")),
        Person(prediction=(1.0, 0.0, "new")),
        Person(),
    ]
    p_alive = {"kind": "prediction", "p_alive": {"lte": 0.3}}
    assert members(people, p_alive) == [0, 1]  # inclusive: 0.3 itself is in
    assert members(people, {"kind": "prediction", "p_alive": {"gte": 0.3}}) == [0, 2]
    assert members(people, {"kind": "prediction", "clv": {"gte": 10.05}}) == [0, 1]
    assert members(people, {"kind": "prediction", "churn_band": "high"}) == [1]
    both = {"kind": "prediction", "p_alive": {"lte": 0.3}, "clv": {"gte": 100}}
    assert members(people, both) == [0]
    # without a prediction, a person matches no test, so only its negation
    assert members(people, {"kind": "not", "condition": p_alive}) == [2, 3]
    with pytest.raises(InvalidInput, match="give p_alive, clv or churn_band"):
        members(people, {"kind": "prediction"})
    with pytest.raises(InvalidInput, match="churn_band"):
        members(people, {"kind": "prediction", "churn_band": "gone"})


def test_next_best_item_within_the_top_ranks(members: Members) -> None:
    people = [
        Person(next_best=[("category", "shoes"), ("category", "hats")]),
        Person(next_best=[("category", "hats"), ("category", "shoes")]),
        Person(next_best=[("product", "shoes")]),
        Person(),
    ]
    assert members(people, {"kind": "next_best", "category": "shoes"}) == [0]
    assert members(people, {"kind": "next_best", "category": "shoes", "top": 2}) == [0, 1]
    assert members(people, {"kind": "next_best", "product": "shoes"}) == [2]
    assert members(people, {"kind": "next_best", "category": "Shoes", "top": 5}) == []
    negated = {"kind": "not", "condition": {"kind": "next_best", "category": "hats"}}
    assert members(people, negated) == [0, 2, 3]
    with pytest.raises(InvalidInput, match="give category or product"):
        members(people, {"kind": "next_best", "category": "shoes", "product": "p1"})
    with pytest.raises(InvalidInput, match="top"):
        members(people, {"kind": "next_best", "category": "shoes", "top": 0})


def test_loyalty_tiers_and_points(members: Members) -> None:
    people = [
        Person(tier="Gold", balances=[100, 500]),
        Person(tier="silver", balances=[499]),
        Person(),
    ]
    assert members(people, {"kind": "loyalty_tier"}) == [0, 1]
    assert members(people, {"kind": "loyalty_tier", "at_least": "Silver"}) == [0, 1]
    assert members(people, {"kind": "loyalty_tier", "at_least": "gold"}) == [0]
    assert members(people, {"kind": "loyalty_tier", "at_least": "Diamond"}) == []
    assert members(people, {"kind": "loyalty_tier", "in": ["SILVER"]}) == [1]
    assert members(people, {"kind": "loyalty_points", "gte": 500}) == [0]
    assert members(people, {"kind": "loyalty_points", "lte": 499}) == [1, 2]  # no ledger: 0


def test_event_counts_with_property_filters_and_a_window_edge(members: Members) -> None:
    shoes = {"category": "shoes"}
    people = [
        # three shoe views in the last 14 days: one just inside the window, one at now
        Person(
            events=[
                Happened(VIEWED, 13, shoes),
                Happened(VIEWED, 0, shoes),
                Happened("product viewed", 14, shoes, seconds=-1),
            ]
        ),
        # the third one exactly 14 days ago: outside ("in the last 14 days" is after it)
        Person(
            events=[
                Happened(VIEWED, 13, shoes),
                Happened(VIEWED, 0, shoes),
                Happened(VIEWED, 14, shoes),
            ]
        ),
        # three, but one is of hats, and one is in the future
        Person(
            events=[
                Happened(VIEWED, 1, shoes),
                Happened(VIEWED, 2, {"category": "hats"}),
                Happened(VIEWED, 1, shoes),
                Happened(VIEWED, -1, shoes),
            ]
        ),
    ]
    viewed_shoes = {
        "kind": "event_count",
        "event": VIEWED,
        "where": [{"property": "category", "op": "equals", "value": "shoes"}],
        "within_days": 14,
    }
    assert members(people, {**viewed_shoes, "gte": 3}) == [0]
    assert members(people, {**viewed_shoes, "gte": 2, "lte": 2}) == [1, 2]
    assert members(people, {**viewed_shoes, "gte": 0, "lte": 0}) == []
    assert members(people, {"kind": "event_count", "event": VIEWED, "gte": 4}) == []
    assert members(people, {"kind": "event_count", "event": VIEWED, "gte": 3}) == [0, 1, 2]
    latest_hats = {
        **viewed_shoes,
        "latest": True,
        "where": [{"property": "category", "op": "equals", "value": "hats"}],
    }
    assert members(people, latest_hats) == []
    assert members(people, {**latest_hats, "gte": 0, "lte": 0}) == [0, 1, 2]


def test_messages_opened_or_clicked_in_a_window(members: Members) -> None:
    people = [
        Person(events=[Happened("Email Opened", 3, {"template": "welcome"})]),
        Person(events=[Happened("Email Clicked", 30, {"template": "welcome"})]),
        Person(events=[Happened("Email Opened", 1, {"template": "other"})]),
    ]
    assert members(people, {"kind": "message", "template": "welcome"}) == [0]
    assert members(people, {"kind": "message", "template": "welcome", "action": "clicked"}) == [1]
    assert (
        members(
            people,
            {"kind": "message", "template": "welcome", "action": "clicked", "within_days": 30},
        )
        == []
    )


def test_orders_products_and_categories_bought(members: Members) -> None:
    shoes = {"product_id": "p1", "category": "shoes", "quantity": 2, "price": "10.05"}
    hat = {"product_id": "p2", "category": "hats", "price": "5"}
    people = [
        Person(orders=[Bought(3, "25.10", [shoes, hat]), Bought(59, "20.10", [shoes])]),
        Person(orders=[Bought(60, "20.10", [shoes]), Bought(1, "5", [hat])]),
        Person(orders=[Bought(-1, "99", [shoes])]),  # tomorrow's order does not count yet
        Person(),
    ]
    assert members(people, {"kind": "bought"}) == [0, 1]
    assert members(people, {"kind": "bought", "category": "shoes", "within_days": 60}) == [0]
    assert members(
        people, {"kind": "bought", "category": "shoes", "measure": "quantity", "gte": 4}
    ) == [0]
    assert members(
        people, {"kind": "bought", "category": "shoes", "measure": "quantity", "gte": 2, "lte": 2}
    ) == [1]
    assert members(
        people, {"kind": "bought", "product": "p2", "measure": "amount", "gte": 5, "lte": 5}
    ) == [0, 1]
    assert members(
        people, {"kind": "bought", "category": "shoes", "measure": "amount", "gte": 40.2}
    ) == [0]
    assert members(
        people, {"kind": "bought", "measure": "amount", "gte": 45.2, "within_days": 60}
    ) == [0]
    assert members(people, {"kind": "bought", "measure": "orders", "gte": 2}) == [0, 1]
    assert members(people, {"kind": "bought", "measure": "orders", "lte": 0}) == [2, 3]
    assert members(people, {"kind": "bought", "measure": "quantity", "gte": 4}) == [0]  # 2 + 1 + 2
    no_shoes = {
        "kind": "not",
        "condition": {"kind": "bought", "category": "shoes", "within_days": 30},
    }
    assert members(
        people, {"kind": "all", "conditions": [{"kind": "bought", "category": "hats"}, no_shoes]}
    ) == [1]


def test_membership_of_another_audience(members: Members) -> None:
    people = [
        Person(audiences=frozenset({"Readers"})),
        Person(audiences=frozenset({"Buyers"})),
        Person(),
    ]
    assert members(people, {"kind": "audience", "audience": "Readers"}) == [0]
    assert members(
        people, {"kind": "not", "condition": {"kind": "audience", "audience": "Readers"}}
    ) == [1, 2]


def test_erased_people_are_never_members(members: Members) -> None:
    people = [Person(tags=frozenset({"vip"}), gone=True), Person(tags=frozenset({"vip"}))]
    assert members(people, {"kind": "tag", "tag": "vip"}) == [1]
    assert members(people, {"kind": "all", "conditions": []}) == [1]
    assert members(people, {"kind": "any", "conditions": []}) == []


def test_run_only_tests_are_refused_outside_a_workflow(members: Members) -> None:
    for condition in (
        {"kind": "purchased_since_entered"},
        {"kind": "event_count", "event": VIEWED, "since_entered": True},
    ):
        with pytest.raises(InvalidInput, match="workflow run"):
            members([Person()], condition)
