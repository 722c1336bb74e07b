"""The contact views workflows load (lealta.conditions.views) carry everything the
condition language reads: testing a condition on the loaded views finds the same people as
the SQL query, for random populations and trees (SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from lealta.conditions import evaluate, parse
from lealta.conditions.reads import PARTS
from lealta.conditions.sql import members_query
from lealta.conditions.views import views
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conditions.population import NOW, Person, write
from tests.integration.conditions.test_sql_equals_per_person import KINDS, people

# The loader decays the lead score from its stored state and reads the tier ranks of the
# programme in force (none here); the population sets neither, so those two kinds are left out.
LOADED = st.one_of(*(strategy for kind, strategy in KINDS.items() if kind != "score"))
trees = st.recursive(
    LOADED,
    lambda inner: st.one_of(
        st.builds(lambda cs: {"kind": "all", "conditions": cs}, st.lists(inner, max_size=3)),
        st.builds(lambda c: {"kind": "not", "condition": c}, inner),
    ),
    max_leaves=4,
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_conditions_on_loaded_views_find_whom_sql_finds(uow: UnitOfWork) -> None:
    @given(population=people, condition=trees)
    @settings(max_examples=60, deadline=None, database=None)
    def agree(population: list[Person], condition: dict[str, Any]) -> None:
        spec = parse(condition)
        with uow.engine.connect() as connection:
            transaction = connection.begin()
            try:
                ids = write(connection, population)
                by_sql = set(connection.scalars(members_query(spec, now=NOW, tier_ranks={})))
                loaded = views(Session(bind=connection), dict.fromkeys(ids, PARTS), now=NOW)
            finally:
                transaction.rollback()
        by_view = {cid for cid, view in loaded.items() if evaluate(spec, view, now=NOW)}
        assert by_sql == by_view

    agree()
