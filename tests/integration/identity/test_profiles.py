"""Profiles as plain rows: read, changed, written back column by column; the session's own
copies are read again after; merged profiles lead to their survivor."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.dialects import sqlite

from lealta.contacts.tables import Contact
from lealta.identity import profiles
from lealta.identity.service import resolve
from lealta.storage.unit_of_work import UnitOfWork

T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(days=3)


def _person(uow: UnitOfWork, anonymous_id: str) -> str:
    with uow.transaction() as session:
        contact = resolve(session, {"anonymous_id": anonymous_id}, T0)
        contact.attributes = {"first_name": "Ana", "city": "Porto"}
        contact.score_state = {"score": 1.0}
        contact.score = 1.0
        contact.last_seen_at = T0
        return contact.id


def test_only_the_changed_columns_are_written(uow: UnitOfWork) -> None:
    cid = _person(uow, "anon-1")
    with uow.transaction() as session:
        profile = profiles.load(session, [cid, "nobody"])[cid]
        assert profiles.write(session, [profile], now=LATER) == 0  # nothing changed
        profile.last_seen_at = LATER
        profile.attributes = {**profile.attributes, "last_name": "Sousa"}
        assert profile.changed() == ("attributes", "search_name", "last_seen_at")
        # someone else's change to a column the profile did not change
        session.execute(update(Contact).where(Contact.id == cid).values(score=7.0))
        assert profiles.write(session, [profile], now=LATER) == 1
        assert profile.changed() == ()
    with uow.transaction() as session:
        stored = session.get(Contact, cid)
        assert stored is not None
        assert stored.attributes == {"first_name": "Ana", "city": "Porto", "last_name": "Sousa"}
        assert stored.search_name is not None
        assert "sousa" in stored.search_name
        assert stored.last_seen_at is not None
        assert stored.last_seen_at.replace(tzinfo=dt.UTC) == LATER
        assert stored.score == 7.0  # not overwritten


def test_the_sessions_copy_is_read_again_after_a_write(uow: UnitOfWork) -> None:
    cid = _person(uow, "anon-1")
    with uow.transaction() as session:
        held = session.get(Contact, cid)
        assert held is not None
        assert held.lifecycle_stage is None
        profile = profiles.load(session, [cid])[cid]
        profile.lifecycle_stage = "lead"
        profiles.write(session, [profile], now=LATER)
        assert held.lifecycle_stage == "lead"


def test_a_merged_profile_leads_to_its_survivor(uow: UnitOfWork) -> None:
    first = _person(uow, "anon-1")
    second = _person(uow, "anon-2")
    with uow.transaction() as session:
        resolve(session, {"anonymous_id": "anon-1", "user_id": "u-1"}, LATER)
        kept = resolve(session, {"anonymous_id": "anon-2", "user_id": "u-1"}, LATER).id
    gone = second if kept == first else first
    with uow.transaction() as session:
        assert profiles.survivor_id(session, gone) == kept
        assert profiles.survivor_id(session, kept) == kept
        assert profiles.load(session, [gone])[gone].merged_into == kept
        with pytest.raises(LookupError):
            profiles.survivor_id(session, "nobody")
        assert session.scalar(select(Contact.merged_into).where(Contact.id == gone)) == kept


def test_a_profiles_seen_times_are_read_aware_in_utc(uow: UnitOfWork) -> None:
    cid = _person(uow, "anon-1")  # last seen T0, first seen never
    with uow.transaction() as session:
        profile = profiles.load(session, [cid])[cid]
        assert profile.first_seen_at is None
        assert profile.last_seen_at == T0
        assert profile.last_seen_at.utcoffset() == dt.timedelta(0)
        profile.first_seen_at = T0 - dt.timedelta(microseconds=1)
        profiles.write(session, [profile], now=LATER)
    with uow.transaction() as session:
        again = profiles.load(session, [cid])[cid]
        assert again.first_seen_at == T0 - dt.timedelta(microseconds=1)
        assert again.changed() == ()  # read as written: nothing to write back


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2025-03-01 09:00:00.000001", dt.datetime(2025, 3, 1, 9, 0, 0, 1, tzinfo=dt.UTC)),
        ("2025-03-01 09:00:00", dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)),
        (
            "2025-03-01T11:00:00+02:00",
            dt.datetime(2025, 3, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
    ],
)
def test_seen_time_text_not_written_by_sqlalchemy_is_read_too(
    stored: str, read: dt.datetime
) -> None:
    value = profiles._SeenAt().process_result_value(stored, sqlite.dialect())
    assert value == read
    assert value is not None
    assert value.utcoffset() is not None
