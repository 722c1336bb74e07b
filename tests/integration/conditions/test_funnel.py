"""The count left after each condition of an ``all``."""

from __future__ import annotations

from sqlalchemy import func, select

from lealta.conditions import parse
from lealta.conditions.explain import funnel_queries
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conditions.population import NOW, Bought, Person, write


def test_the_funnel_counts_the_people_left_after_each_condition(uow: UnitOfWork) -> None:
    shoes = {"category": "shoes", "price": "10"}
    people = [
        Person(stage="Customer", tags=frozenset({"vip"}), orders=[Bought(2, "10", [shoes])]),
        Person(stage="Customer", tags=frozenset({"vip"})),
        Person(stage="Customer"),
        Person(stage="Lead", tags=frozenset({"vip"}), orders=[Bought(2, "10", [shoes])]),
        Person(stage="Customer", tags=frozenset({"vip"}), gone=True),
    ]
    tree = parse(
        {
            "kind": "all",
            "conditions": [
                {"kind": "stage", "in": ["Customer"]},
                {"kind": "tag", "tag": "vip"},
                {"kind": "bought", "category": "shoes", "within_days": 30},
            ],
        }
    )
    with uow.engine.connect() as connection:
        write(connection, people)
        steps = funnel_queries(tree, now=NOW)
        counts = [
            connection.scalar(select(func.count()).select_from(step.query.subquery()))
            for step in steps
        ]
    assert [step.label for step in steps] == [
        "stage one of 'Customer'",
        "has the tag 'vip'",
        "orders of category 'shoes' in the last 30 days: more than 0",
    ]
    assert counts == [3, 2, 1]
    assert len(funnel_queries(parse({"kind": "tag", "tag": "vip"}), now=NOW)) == 1
