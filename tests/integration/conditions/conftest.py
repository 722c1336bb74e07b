"""``members``: who a condition holds of among a population, asked of SQL and of Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection

from lealta.conditions import evaluate, parse
from lealta.conditions.sql import members_query
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.conditions.population import NOW, TIER_RANKS, Person, write

Members = Callable[..., list[int]]


@contextmanager
def written(
    uow: UnitOfWork, people: Sequence[Person], now: dt.datetime = NOW
) -> Iterator[tuple[Connection, list[str]]]:
    """A connection on which ``people`` are written (their contact ids, in order), inside a
    transaction rolled back when the block ends: nothing is kept."""
    with uow.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection, write(connection, people, now)
        finally:
            transaction.rollback()


def both_sides(
    uow: UnitOfWork, people: Sequence[Person], condition: Any, now: dt.datetime = NOW
) -> tuple[list[int], list[int]]:
    """The positions (0-based) of the people ``condition`` holds of: by SQL (compiled both
    ways, per-person probes and set-wise, which must agree), by Python. Nothing is kept:
    the rows are written in a transaction rolled back afterwards."""
    spec = parse(condition)
    with written(uow, people, now) as (connection, ids):
        found = set(connection.scalars(members_query(spec, now=now, tier_ranks=TIER_RANKS)))
        setwise = members_query(spec, now=now, tier_ranks=TIER_RANKS, setwise=True)
        assert set(connection.scalars(setwise)) == found, "set-wise SQL differs from probes"
    by_sql = [n for n, cid in enumerate(ids) if cid in found]
    by_person = [
        n
        for n, (cid, person) in enumerate(zip(ids, people, strict=True))
        if not person.gone and evaluate(spec, person.view(cid, now), now=now)
    ]
    return by_sql, by_person


@pytest.fixture
def members(uow: UnitOfWork) -> Members:
    """``members(people, condition)``: who it holds of, after checking that the SQL side and
    the per-person side agree."""

    def ask(people: Sequence[Person], condition: Any, now: dt.datetime = NOW) -> list[int]:
        by_sql, by_person = both_sides(uow, people, condition, now)
        assert by_sql == by_person, f"SQL {by_sql} but per person {by_person} for {condition}"
        return by_sql

    return ask
