"""The shared test factories keep the promises the tests rely on, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.contacts.consent import consents_in_force
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import contacts, events, outbox, runs

T0 = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)


def test_a_person_is_found_again_by_an_identifier_and_keeps_what_was_recorded(
    uow: UnitOfWork,
) -> None:
    with uow.transaction() as session:
        ana = contacts.person(
            session, T0, email="Ana@Example.com", consents=contacts.granted("email", "sms"),
            attributes={"city": "Porto"}, tags=["vip"], lifecycle_stage="Lead",
        )  # fmt: skip
        again = contacts.person(session, T0, email="ana@example.com", user_id="u-1")
        assert again.id == ana.id
        assert (again.attributes, again.lifecycle_stage) == ({"city": "Porto"}, "Lead")
        assert sorted(consents_in_force(session, ana.id)) == ["email", "sms"]
        with pytest.raises(TypeError, match="no column 'stage'"):
            contacts.person(session, T0, email="ana@example.com", stage="Lead")
    with uow.transaction() as session:
        tagged = events.stored(session, contact_id=ana.id, name="Tag Added")
    assert [e.properties.get("tag") for e in tagged] == ["vip"]


def test_an_outbox_key_is_taken_once_and_a_sent_row_reads_back(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        who = contacts.person(session, T0, user_id="u-2").id
        runs.workflow(session, "welcome")
        run = runs.run(session, "welcome", who, at=T0)
        first = outbox.message(session, who, at=T0, key="k", run_id=run.id)
        assert first is not None
        assert outbox.message(session, who, at=T0, key="k", template="other") is None
        outbox.sent(session, who, at=T0, key="s", status="failed", error="550 no such user")
    with uow.transaction() as session:
        failed = outbox.by_key(session, "s")
        waiting = outbox.by_key(session, "k")
    assert (failed.status, failed.error, failed.sent_at) == ("failed", "550 no such user", None)
    assert (waiting.status, waiting.template, waiting.run_id) == ("pending", "welcome", run.id)
