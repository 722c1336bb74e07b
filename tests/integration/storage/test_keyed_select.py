"""Selecting and deleting rows by a list of keys gives what SQLAlchemy's IN gives: the same
rows, with JSON documents and times read back, across chunks, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, column, func, select, table

from lealta.contacts.tables import Contact
from lealta.storage import bulk, keyed
from lealta.storage.keyed import KeyedSelect, delete_keys, one_of
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
CONTACTS = cast(Table, Contact.__table__)
BY_ID = KeyedSelect(
    select(Contact.id, Contact.attributes, Contact.last_seen_at, Contact.score)
    .where(Contact.lifecycle_stage == bindparam("stage"))
    .where(Contact.id.in_(bindparam("keys", expanding=True)))
)


def _store(uow: UnitOfWork, count: int) -> list[str]:
    ids = [f"{i:032x}" for i in range(count)]
    with uow.transaction() as session:
        bulk.insert_rows(
            session.connection(),
            CONTACTS,
            [
                {"id": cid, "attributes": {"n": i, "name": "Zoë"}, "score": i / 2}
                for i, cid in enumerate(ids)
            ],
            shared={
                "created_at": NOW,
                "updated_at": NOW,
                "score_state": {},
                "lifecycle_stage": "lead",
                "last_seen_at": NOW,
            },
        )
    return ids


def test_rows_by_keys_across_chunks_equal_sqlalchemys(uow: UnitOfWork) -> None:
    ids = _store(uow, keyed.CHUNK + 3)
    wanted = [*ids[::2], "not-there"]
    with uow.transaction() as session:
        found = BY_ID.rows(session.connection(), wanted, stage="lead")
        expected = session.execute(BY_ID.statement, {"keys": wanted, "stage": "lead"}).all()
        none = BY_ID.rows(session.connection(), wanted, stage="customer")
    assert sorted(found) == sorted(tuple(row) for row in expected)
    assert len(found) == len(ids[::2])
    one = next(row for row in found if row[0] == ids[2])
    assert one[1] == {"n": 2, "name": "Zoë"}
    assert one[2].replace(tzinfo=dt.UTC) == NOW
    assert one[3] == 1.0
    assert none == []


def test_no_keys_select_nothing_and_delete_nothing(uow: UnitOfWork) -> None:
    _store(uow, 2)
    with uow.transaction() as session:
        assert BY_ID.rows(session.connection(), [], stage="lead") == []
        delete_keys(session.connection(), CONTACTS, CONTACTS.c.id, [])
        assert session.scalar(select(func.count()).select_from(Contact)) == 2


def test_delete_keys_removes_exactly_those_rows(uow: UnitOfWork) -> None:
    ids = _store(uow, 5)
    with uow.transaction() as session:
        delete_keys(session.connection(), CONTACTS, CONTACTS.c.id, [ids[1], ids[3], "nobody"])
    with uow.transaction() as session:
        left = session.scalars(select(Contact.id).order_by(Contact.id)).all()
    assert left == [ids[0], ids[2], ids[4]]


def test_a_statement_without_the_keys_parameter_is_refused(uow: UnitOfWork) -> None:
    wrong = KeyedSelect(select(Contact.id).where(Contact.id == bindparam("keys")))
    with uow.transaction() as session:
        if session.connection().dialect.name != "sqlite":
            return  # other databases run the statement as SQLAlchemy does
        with pytest.raises(ValueError, match="keys"):
            wrong.rows(session.connection(), ["a"])


def test_one_of_selects_what_in_selects_with_one_parameter_whatever_the_keys(
    uow: UnitOfWork,
) -> None:
    ids = _store(uow, 40_000)  # more keys than SQLite takes as parameters (32,766)
    with uow.transaction() as session:

        def chosen(keys: list[str]) -> list[str]:
            query = select(Contact.id).where(one_of(session, Contact.id, keys), Contact.score > 1)
            compiled = query.compile(dialect=session.get_bind().dialect)
            assert len(compiled.params) == 2  # the keys, and the score
            return sorted(session.scalars(query))

        wanted = [*ids[::3], "not-there", 'it\'s "quoted"', "Zoë"]
        expected = sorted(
            session.scalars(select(Contact.id).where(Contact.id.in_(ids[::3]), Contact.score > 1))
        )
        assert chosen(wanted) == expected
        assert len(expected) == len(ids[::3]) - 1  # all but the first, score 0
        assert chosen([]) == []
        assert chosen([ids[4]]) == [ids[4]]


def test_one_of_on_an_untyped_column_takes_the_keys_type(uow: UnitOfWork) -> None:
    """A lightweight ``table()``'s columns carry no type; the keys give the array's."""
    ids = _store(uow, 5)
    light = table("contacts", column("id"), column("score"))
    with uow.transaction() as session:
        by_id = select(light.c.id).where(one_of(session, light.c.id, [ids[1], ids[3]]))
        by_score = select(light.c.id).where(one_of(session, light.c.score, [1, 2]))
        assert sorted(session.scalars(by_id)) == [ids[1], ids[3]]
        assert sorted(session.scalars(by_score)) == [ids[2], ids[4]]
