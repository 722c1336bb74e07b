"""Bulk writes store what SQLAlchemy would: JSON documents, times, NULLs, skipped conflicts,
updates by key, on SQLite and on PostgreSQL, below and above the COPY threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from lealta.automations.tables import RunStep
from lealta.channels.tables import OutboxMessage
from lealta.contacts.tables import Contact
from lealta.storage import bulk
from lealta.storage.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)
CONTACTS = cast(Table, Contact.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.UTC) if moment and moment.tzinfo is None else moment


@pytest.mark.parametrize("count", [3, bulk.COPY_FROM + 5])
def test_inserts_and_updates_round_trip(uow: UnitOfWork, count: int) -> None:
    ids = [f"{i:032x}" for i in range(count)]
    with uow.transaction() as session:
        bulk.insert_rows(
            session.connection(),
            CONTACTS,
            [{"id": cid, "attributes": {"n": i, "name": "Zoë"}} for i, cid in enumerate(ids)],
            shared={
                "created_at": NOW,
                "updated_at": NOW,
                "score": 1.5,
                "score_state": {},
                "lifecycle_stage": None,
            },
        )
    with uow.transaction() as session:
        connection = session.connection()
        bulk.insert_rows(  # the first half again: skipped, not an error
            connection,
            OUTBOX,
            [
                {"idempotency_key": f"k{i}", "contact_id": cid, "payload": {"i": i, "x": [1, None]}}
                for i, cid in enumerate(ids)
            ],
            shared={
                "run_id": None,
                "channel": "email",
                "template": "hello",
                "status": "pending",
                "priority": 0,
                "attempts": 0,
                "not_before": NOW,
                "created_at": NOW,
            },
            skip_conflicts_on=["idempotency_key"],
        )
        bulk.insert_rows(
            connection,
            OUTBOX,
            [
                {"idempotency_key": f"k{i}", "contact_id": cid, "payload": {"again": True}}
                for i, cid in enumerate(ids[: count // 2])
            ],
            shared={
                "run_id": None,
                "channel": "email",
                "template": "other",
                "status": "pending",
                "priority": 0,
                "attempts": 0,
                "not_before": NOW,
                "created_at": NOW,
            },
            skip_conflicts_on=["idempotency_key"],
        )
        later = NOW + dt.timedelta(days=1)
        bulk.update_rows(
            connection,
            CONTACTS,
            [
                {"id": cid, "lifecycle_stage": "customer" if i % 2 else None, "last_seen_at": later}
                for i, cid in enumerate(ids)
            ],
            key="id",
            shared={"attributes": {"updated": True}, "updated_at": later},
        )
    with uow.transaction() as session:
        contacts = {c.id: c for c in session.scalars(select(Contact))}
        messages = {m.idempotency_key: m for m in session.scalars(select(OutboxMessage))}
    assert len(contacts) == count
    assert len(messages) == count
    first, second = contacts[ids[0]], contacts[ids[1]]
    assert first.attributes == {"updated": True}
    assert (first.lifecycle_stage, second.lifecycle_stage) == (None, "customer")
    assert _aware(first.last_seen_at) == later
    assert _aware(first.created_at) == NOW
    assert _aware(first.updated_at) == later
    assert first.score == 1.5
    assert {m.template for m in messages.values()} == {"hello"}
    assert messages["k1"].payload == {"i": 1, "x": [1, None]}
    assert _aware(messages["k1"].not_before) == NOW


def test_one_transaction_may_update_then_insert_the_same_table(uow: UnitOfWork) -> None:
    """Each set of columns stages its own rows (PostgreSQL keeps a staging table until the
    transaction ends: an insert after an update once found the update's columns there)."""
    count = bulk.COPY_FROM + 5
    ids = [f"{i:032x}" for i in range(2 * count)]
    shared = {"created_at": NOW, "updated_at": NOW, "score": 0.0, "score_state": {}}
    with uow.transaction() as session:
        bulk.insert_rows(
            session.connection(),
            CONTACTS,
            [{"id": c, "attributes": {}} for c in ids[:count]],
            shared=shared,
        )
    later = NOW + dt.timedelta(days=1)
    with uow.transaction() as session:
        connection = session.connection()
        bulk.update_rows(
            connection,
            CONTACTS,
            [{"id": c, "lifecycle_stage": "lead"} for c in ids[:count]],
            key="id",
            shared={"updated_at": later},
        )
        bulk.insert_rows(
            connection,
            CONTACTS,
            [{"id": c, "attributes": {"late": True}} for c in ids],  # the first half: kept
            shared=shared,
            skip_conflicts_on=["id"],
        )
    with uow.transaction() as session:
        stages = {c.id: c.lifecycle_stage for c in session.scalars(select(Contact))}
    assert len(stages) == 2 * count
    assert {stages[c] for c in ids[:count]} == {"lead"}
    assert {stages[c] for c in ids[count:]} == {None}


@pytest.mark.parametrize("count", [1, bulk.COPY_FROM])
def test_a_value_sqlalchemy_would_default_must_be_given(uow: UnitOfWork, count: int) -> None:
    row = {"run_id": "r", "workflow_id": "w", "step_id": "s", "outcome": "o", "detail": {}}
    with uow.transaction() as session, pytest.raises(ValueError, match="no values for"):
        bulk.insert_rows(session.connection(), cast(Table, RunStep.__table__), [row] * count)
    with uow.transaction() as session, pytest.raises(ValueError, match="no values for"):
        bulk.update_rows(
            session.connection(),
            CONTACTS,
            [{"id": f"{i}", "score": 1.0} for i in range(count)],
            key="id",
        )


@pytest.mark.parametrize("count", [3, bulk.COPY_FROM + 5])
def test_insert_new_writes_the_rows_whose_key_is_new_and_names_them(
    uow: UnitOfWork, count: int
) -> None:
    ids = [f"{i:032x}" for i in range(count)]
    shared = {"created_at": NOW, "updated_at": NOW, "score": 0.0, "score_state": {}}
    half = ids[: count // 2 + 1]
    with uow.transaction() as session:
        first = bulk.insert_new(
            session.connection(),
            CONTACTS,
            {"id": half, "attributes": [{"n": i} for i in range(len(half))]},
            key="id",
            shared=shared,
        )
    with uow.transaction() as session:
        second = bulk.insert_new(
            session.connection(),
            CONTACTS,
            {"id": ids, "attributes": [{"again": True}] * count},
            key="id",
            shared=shared,
        )
    with uow.transaction() as session:
        replay = bulk.insert_new(
            session.connection(), CONTACTS, {"id": ids, "attributes": [{}] * count}, key="id",
            shared=shared,
        )  # fmt: skip
        stored = {c.id: c.attributes for c in session.scalars(select(Contact))}
    assert first == set(half)
    assert second == set(ids) - set(half)
    assert replay == set()
    assert stored[half[1]] == {"n": 1}  # kept, not overwritten
    assert stored[ids[-1]] == {"again": True}


def test_columns_of_different_lengths_are_refused(uow: UnitOfWork) -> None:
    with uow.transaction() as session, pytest.raises(ValueError, match="different lengths"):
        bulk.insert_columns(
            session.connection(),
            CONTACTS,
            {"id": ["a", "b"], "attributes": [{}]},
            shared={"created_at": NOW, "updated_at": NOW, "score": 0.0, "score_state": {}},
        )


KINDS = Table(
    "bulk_kinds",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", Text),
    Column("ratio", Float),
    Column("amount", Numeric(12, 2)),
    Column("flag", Boolean),
    Column("day", Date),
    Column("moment", DateTime(timezone=True)),
    Column("doc", JSON().with_variant(JSONB(), "postgresql")),
)


class Label(str):
    """A ``str`` of its own type."""


AWKWARD = ["tab\there", "two\nlines", "back\\slash", "\\N", "cr\r", "", "Zoë 🎉", None]


@pytest.mark.parametrize("count", [len(AWKWARD), bulk.COPY_FROM + 5])
def test_values_of_every_kind_round_trip(uow: UnitOfWork, count: int) -> None:
    """What COPY's text format must escape (tabs, line ends, backslashes, a literal ``\\N``)
    comes back as written, beside NULLs, numbers, flags, days, times and documents; a
    column with a value of a type COPY's text is not made for here (a ``str`` subclass) too."""
    rows = [
        {
            "id": i,
            "label": AWKWARD[i % len(AWKWARD)],
            "ratio": [0.1, float("inf"), None, -2.5e-7][i % 4],
            "amount": [Decimal("12.30"), None, Decimal("-0.05")][i % 3],
            "flag": [True, False, None][i % 3],
            "day": [dt.date(2026, 2, 28), None][i % 2],
            "moment": [NOW, None, NOW + dt.timedelta(hours=30)][i % 3],
            "doc": [{"a": "x\ty\\z", "n": [1, None]}, None, [], {"q": '"'}][i % 4],
        }
        for i in range(count)
    ]
    with uow.transaction() as session:
        KINDS.create(session.connection())
        bulk.insert_rows(session.connection(), KINDS, rows)
        bulk.insert_columns(
            session.connection(),
            KINDS,
            {"id": [count + i for i in range(count)], "label": [Label("sub\tclass")] * count},
            shared={"doc": {"k": 1}},
        )
        stored = session.execute(select(KINDS).order_by(KINDS.c.id)).mappings().all()
        KINDS.drop(session.connection())
    got = [dict(row) | {"moment": _aware(row["moment"])} for row in stored]
    # a JSON column given None holds JSON null, which SQLAlchemy reads back as None
    assert got[:count] == rows
    assert [(row["id"], row["label"], row["doc"]) for row in got[count:]] == [
        (count + i, "sub\tclass", {"k": 1}) for i in range(count)
    ]
