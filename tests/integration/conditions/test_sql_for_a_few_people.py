"""Hypothesis: a condition's query restricted to a few people (the live path's batch:
``members_query(..., people=People(ids))``, every subquery keeping to their rows) finds
exactly the people of the whole query who are among them, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lealta.conditions import parse
from lealta.conditions.sql import People, members_query
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conditions.population import NOW, TIER_RANKS, Person, write
from tests.integration.conditions.test_sql_equals_per_person import people, trees


def _restricted_agrees(
    uow: UnitOfWork, population: list[Person], condition: dict[str, Any], chosen: list[bool]
) -> None:
    spec = parse(condition)
    with uow.engine.connect() as connection:
        transaction = connection.begin()
        try:
            ids = write(connection, population, NOW)
            everyone = set(connection.scalars(members_query(spec, now=NOW, tier_ranks=TIER_RANKS)))
            few = [cid for cid, keep in zip(ids, chosen, strict=False) if keep]
            query = members_query(spec, now=NOW, tier_ranks=TIER_RANKS, people=People(few))
            found = list(connection.scalars(query))
        finally:
            transaction.rollback()
    assert sorted(found) == sorted(everyone & set(few))


few = st.lists(st.booleans(), min_size=5, max_size=5)


@given(population=people, condition=trees, chosen=few)
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_query_for_a_few_people_finds_them_among_everyone_on_sqlite(
    uow: UnitOfWork, population: list[Person], condition: dict[str, Any], chosen: list[bool]
) -> None:
    _restricted_agrees(uow, population, condition, chosen)


@given(population=people, condition=trees, chosen=few)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_query_for_a_few_people_finds_them_among_everyone_on_postgresql(
    uow: UnitOfWork, population: list[Person], condition: dict[str, Any], chosen: list[bool]
) -> None:
    _restricted_agrees(uow, population, condition, chosen)
