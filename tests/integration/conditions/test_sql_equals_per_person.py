"""Hypothesis: over random small populations and random condition trees, the people the SQL
query finds are exactly those the per-person evaluation says the condition holds of."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conditions.conftest import both_sides
from tests.integration.conditions.population import Bought, Happened, Person

TEXTS = ["ES", "es", "12", " 7", "3.5", "-2", "+.5", "1.2.3", "shoes", "", "a*b"]
scalars = st.one_of(
    st.sampled_from(TEXTS),
    st.integers(-3, 15),
    st.sampled_from([0.5, 12.0, 3.5]),
    st.booleans(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
attributes = st.dictionaries(
    st.sampled_from(["country", "visits", "tags", "n.x"]), values, max_size=3
)
days = st.sampled_from([-1, 0, 1, 6, 7, 8, 30])
properties = st.dictionaries(
    st.sampled_from(["category", "template", "price"]),
    st.sampled_from(["shoes", "hats", "welcome", 5, "5", True]),
    max_size=2,
)
events = st.builds(
    Happened,
    name=st.sampled_from(["Product Viewed", "product viewed", "Email Opened"]),
    days=days,
    properties=properties,
)
items = st.fixed_dictionaries(
    {"product_id": st.sampled_from(["p1", "p2"]), "category": st.sampled_from(["shoes", "hats"])},
    optional={
        "quantity": st.integers(0, 3),
        "price": st.sampled_from(["10.05", "5", "0.10", "0.20"]),
    },
)
orders = st.builds(
    Bought,
    days=days,
    amount=st.sampled_from(["0", "5", "10.05", "0.10", "0.20"]),
    items=st.lists(items, max_size=3),
)
rfm = st.none() | st.tuples(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 5),
    st.none() | st.integers(1, 5),
    st.sampled_from(["Champions", "At Risk"]),
    st.sampled_from([None, "Bargain"]),
)
prediction = st.none() | st.tuples(
    st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    st.sampled_from([0.0, 10.05, 120.0]),
    st.sampled_from(["low", "medium", "high", "new"]),
)
people = st.lists(
    st.builds(
        Person,
        attributes=attributes,
        stage=st.sampled_from([None, "Lead", "Customer"]),
        score=st.sampled_from([0.0, 10.0, 20.5]),
        tags=st.frozensets(st.sampled_from(["vip", "new"])),
        lists=st.dictionaries(
            st.sampled_from(["news", "promo"]),
            st.sampled_from(["subscribed", "pending", "unsubscribed"]),
        ),
        consents=st.lists(
            st.tuples(st.sampled_from(["email", "sms"]), st.sampled_from(["granted", "denied"])),
            max_size=3,
        ),
        rfm=rfm,
        tier=st.sampled_from([None, "Member", "silver", "Gold"]),
        balances=st.lists(st.integers(0, 600), max_size=3),
        events=st.lists(events, max_size=5),
        orders=st.lists(orders, max_size=3),
        audiences=st.frozensets(st.sampled_from(["Readers", "Buyers"])),
        prediction=prediction,
        next_best=st.lists(
            st.tuples(st.sampled_from(["category", "product"]), st.sampled_from(["shoes", "p1"])),
            max_size=3,
            unique=True,
        ),
        gone=st.booleans(),
    ),
    min_size=1,
    max_size=5,
)

ops = st.sampled_from(
    [
        "equals",
        "not_equals",
        "gt",
        "gte",
        "lt",
        "lte",
        "in",
        "exists",
        "contains",
        "starts_with",
        "ends_with",
        "matches",
    ]
)


@st.composite
def property_tests(draw: Any, names: list[str]) -> dict[str, Any]:
    op = draw(ops)
    name = draw(st.sampled_from(names))
    if op in ("gt", "gte", "lt", "lte"):
        value: Any = draw(st.sampled_from([0, 3, 3.5, 12, "7"]))
    elif op == "in":
        value = draw(st.lists(scalars, max_size=3))
    elif op == "exists":
        value = draw(st.booleans())
    elif op in ("starts_with", "ends_with", "matches"):
        value = draw(st.sampled_from(["E", "s", "1", "", "*s", "?S", "sh*"]))
    else:
        value = draw(scalars)
    return {"property": name, "op": op, "value": value}


window = st.none() | st.sampled_from([1, 7, 30])
KINDS: dict[str, Any] = {
    "attribute": (
        property_tests(["country", "visits", "tags", "n.x"]).map(
            lambda t: {
                "kind": "attribute",
                "name": t["property"],
                "op": t["op"],
                "value": t["value"],
            }
        )
    ),
    "tag": (
        st.builds(
            lambda tag, present: {"kind": "tag", "tag": tag, "present": present},
            st.sampled_from(["vip", "new"]),
            st.booleans(),
        )
    ),
    "list": (
        st.builds(
            lambda slug, status: {"kind": "list", "list": slug, "status": status},
            st.sampled_from(["news", "promo"]),
            st.sampled_from(["subscribed", "pending"]),
        )
    ),
    "stage": (
        st.builds(
            lambda names: {"kind": "stage", "in": names},
            st.lists(st.sampled_from(["Lead", "Customer"]), min_size=1),
        )
    ),
    "score": (st.builds(lambda low: {"kind": "score", "gte": low}, st.sampled_from([0, 10, 20.5]))),
    "segment": (
        st.builds(
            lambda names: {"kind": "segment", "in": names},
            st.lists(st.sampled_from(["Champions", "At Risk"]), min_size=1),
        )
    ),
    "cluster": (st.just({"kind": "cluster", "in": ["Bargain"]})),
    "rfm": (
        st.builds(
            lambda letter, low, high: {"kind": "rfm", letter: {"gte": low, "lte": max(low, high)}},
            st.sampled_from(["r", "f", "m", "p"]),
            st.integers(1, 5),
            st.integers(1, 5),
        )
    ),
    "consent": (
        st.builds(
            lambda channel, status: {"kind": "consent", "channel": channel, "status": status},
            st.sampled_from(["email", "sms"]),
            st.sampled_from(["granted", "denied"]),
        )
    ),
    "event_count": (
        st.builds(
            lambda name, where, within, low, high, latest: {
                "kind": "event_count",
                "event": name,
                "where": where,
                "within_days": within,
                "gte": low,
                "lte": None if high is None else low + high,
                "latest": latest,
            },
            st.sampled_from(["Product Viewed", "email opened"]),
            st.lists(property_tests(["category", "template", "price"]), max_size=2),
            window,
            st.integers(0, 3),
            st.none() | st.integers(0, 2),
            st.booleans(),
        )
    ),
    "message": (
        st.builds(
            lambda template, action, within: {
                "kind": "message",
                "template": template,
                "action": action,
                "within_days": within,
            },
            st.sampled_from(["welcome", "5"]),
            st.sampled_from(["opened", "clicked"]),
            window,
        )
    ),
    "bought": (
        st.builds(
            lambda product, category, measure, within, low, high: {
                "kind": "bought",
                "product": product,
                "category": category,
                "measure": measure,
                "within_days": within,
                "gte": low,
                "lte": None if high is None or low is None else low + high,
            },
            st.sampled_from([None, "p1"]),
            st.sampled_from([None, "shoes"]),
            st.sampled_from(["orders", "quantity", "amount"]),
            window,
            st.none() | st.sampled_from([0, 1, 2, 0.3, 10.05, 20.1]),
            st.none() | st.sampled_from([0, 1, 5]),
        )
    ),
    "loyalty_tier_at_least": (
        st.builds(
            lambda tier: {"kind": "loyalty_tier", "at_least": tier},
            st.sampled_from(["member", "Silver", "GOLD", "Diamond"]),
        )
    ),
    "loyalty_tier_in": (
        st.builds(
            lambda tiers: {"kind": "loyalty_tier", "in": tiers},
            st.lists(st.sampled_from(["Member", "SILVER"]), min_size=1),
        )
    ),
    "loyalty_tier": (st.just({"kind": "loyalty_tier"})),
    "prediction": (
        st.builds(
            lambda p_alive, clv, band: {
                "kind": "prediction",
                **({} if p_alive is None else {"p_alive": p_alive}),
                **({} if clv is None else {"clv": clv}),
                **({} if band is None else {"churn_band": band}),
            },
            st.none() | st.sampled_from([{"lte": 0.3}, {"gte": 0.3, "lte": 0.5}, {"gte": 1.0}]),
            st.none() | st.sampled_from([{"gte": 10.05}, {"lte": 0.0}]),
            st.sampled_from(["low", "high", "new"]),
        )
    ),
    "loyalty_points": (
        st.builds(lambda low: {"kind": "loyalty_points", "gte": low}, st.sampled_from([0, 1, 300]))
    ),
    "next_best": (
        st.builds(
            lambda by, item, top: {"kind": "next_best", by: item, "top": top},
            st.sampled_from(["category", "product"]),
            st.sampled_from(["shoes", "p1", "Shoes"]),
            st.integers(1, 3),
        )
    ),
    "audience": (
        st.builds(
            lambda name: {"kind": "audience", "audience": name},
            st.sampled_from(["Readers", "Buyers", "Nobody"]),
        )
    ),
}
leaves = st.one_of(*KINDS.values())
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda cs: {"kind": "all", "conditions": cs}, st.lists(inner, max_size=3)),
        st.builds(lambda cs: {"kind": "any", "conditions": cs}, st.lists(inner, max_size=3)),
        st.builds(lambda c: {"kind": "not", "condition": c}, inner),
    ),
    max_leaves=6,
)


def _agree(uow: UnitOfWork, population: list[Person], condition: dict[str, Any]) -> None:
    by_sql, by_person = both_sides(uow, population, condition)
    assert by_sql == by_person


@given(population=people, condition=trees)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sql_finds_whom_the_per_person_evaluation_finds_on_sqlite(
    uow: UnitOfWork, population: list[Person], condition: dict[str, Any]
) -> None:
    _agree(uow, population, condition)


@given(population=people, condition=trees)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sql_finds_whom_the_per_person_evaluation_finds_on_postgresql(
    uow: UnitOfWork, population: list[Person], condition: dict[str, Any]
) -> None:
    _agree(uow, population, condition)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_kind_alone_agrees_on_sqlite(uow: UnitOfWork, kind: str) -> None:
    @given(population=people, condition=KINDS[kind])
    @settings(max_examples=50, deadline=None, database=None)
    def agree(population: list[Person], condition: dict[str, Any]) -> None:
        _agree(uow, population, condition)

    agree()
