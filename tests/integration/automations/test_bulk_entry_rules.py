"""Bulk enrolment (a loyalty review, a sweep) applies exactly the entry rules one enrolment
applies: ``max_active``, ``reenter``, ``reenter_after_days``, suppressing tags and segments,
contacts gone; the refused are counted per reason and logged (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from lealta.automations import service
from lealta.automations.sweeps import enrol_set, enroll_many
from lealta.automations.tables import Run
from lealta.automations.triggers import Live
from lealta.contacts.tables import Contact, ContactTag
from lealta.identity.service import resolve
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories import scores

NOW = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
RULED = """
id: ruled
name: Ruled
trigger: {type: event, event: Loyalty Tier Upgraded}
entry: {max_active: 2, reenter_after_days: 7, suppress_tags: [no-mail],
        suppress_segments: [Lost]}
steps:
  - {id: pause, type: wait, duration: 30d}
"""
ONCE = """
id: once
name: Once
trigger: {type: event, event: Loyalty Tier Upgraded}
entry: {reenter: never, max_active: 3}
steps:
  - {id: pause, type: wait, duration: 30d}
"""


def _live(session: object, workflow_id: str) -> Live:
    return Live(service.get(session, workflow_id), service.definition(session, workflow_id))  # type: ignore[arg-type]


def _runs(session: object, workflow_id: str, contact_id: str, *keys: str) -> None:
    live = _live(session, workflow_id)
    for key in keys:
        assert service.enroll(
            session,  # type: ignore[arg-type]
            live.workflow,
            live.rules,
            contact_id,
            entry_key=key,
            now=NOW - dt.timedelta(days=20),
        )


def _end(session: object, contact_id: str, days_ago: int) -> None:
    session.execute(  # type: ignore[attr-defined]
        update(Run)
        .where(Run.contact_id == contact_id)
        .values(status="done", ended_at=NOW - dt.timedelta(days=days_ago))
    )


def _rfm(session: Session, contact_id: str, segment: str) -> None:
    scores.rfm(session, contact_id, segment, at=NOW, r=1, f=1, m=1, recency_days=400, monetary=10.0)


def test_bulk_enrolment_refuses_exactly_whom_one_enrolment_refuses(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    names = ["one-live", "two-live", "ended-lately", "ended-long-ago", "tagged", "lost",
             "erased", "fresh"]  # fmt: skip
    with uow.transaction() as session:
        who = {name: resolve(session, {"user_id": name}, NOW).id for name in names}
        service.save(session, RULED, now=NOW)
        service.set_status(session, "ruled", "active", now=NOW)
        _runs(session, "ruled", who["one-live"], "a")
        _runs(session, "ruled", who["two-live"], "a", "b")
        _runs(session, "ruled", who["ended-lately"], "a")
        _runs(session, "ruled", who["ended-long-ago"], "a")
        _end(session, who["ended-lately"], 3)
        _end(session, who["ended-long-ago"], 10)
        session.add(ContactTag(contact_id=who["tagged"], tag="no-mail", created_at=NOW))
        _rfm(session, who["lost"], "Lost")
        session.get(Contact, who["erased"]).erased_at = NOW  # type: ignore[union-attr]
    asked = [*who.values(), who["fresh"], "no-such-contact"]
    with uow.transaction() as session:
        live = _live(session, "ruled")
        one_by_one = {
            cid for cid in asked if service.may_enter(session, "ruled", live.rules, cid, now=NOW)
        }
    with (
        caplog.at_level(logging.INFO, logger="lealta.automations.sweeps"),
        uow.transaction() as session,
    ):
        done = enrol_set(session, _live(session, "ruled"), asked, entry_key="review", now=NOW)
    assert set(done.admitted) == one_by_one
    assert sorted(done.admitted) == sorted([who["one-live"], who["ended-long-ago"], who["fresh"]])
    assert done.started == 3
    assert done.refused == {
        "max_active": 1,
        "reenter_after_days": 1,
        "suppress_tags": 1,
        "suppress_segments": 1,
        "contact gone": 2,
    }
    [logged] = [r.getMessage() for r in caplog.records if "refused entry" in r.getMessage()]
    assert logged == (
        "workflow ruled: 6 refused entry (contact gone: 2, max_active: 1, "
        "reenter_after_days: 1, suppress_segments: 1, suppress_tags: 1)"
    )
    with uow.transaction() as session:
        review = list(session.scalars(select(Run.contact_id).where(Run.entry_key == "review")))
        assert sorted(review) == sorted(done.admitted)
        # the cap holds now: one-live has two runs under way, the other two admitted one each
        again = enrol_set(session, _live(session, "ruled"), asked, entry_key="next", now=NOW)
    assert sorted(again.admitted) == sorted([who["ended-long-ago"], who["fresh"]])
    assert again.refused["max_active"] == 2


def test_reenter_never_keeps_out_whoever_had_a_run_even_an_ended_one(uow: UnitOfWork) -> None:
    with uow.transaction() as session:
        who = {n: resolve(session, {"user_id": n}, NOW).id for n in ("before", "new")}
        service.save(session, ONCE, now=NOW)
        service.set_status(session, "once", "active", now=NOW)
        _runs(session, "once", who["before"], "a")
        _end(session, who["before"], 100)
    with uow.transaction() as session:
        done = enrol_set(
            session, _live(session, "once"), list(who.values()), entry_key="r", now=NOW
        )
    assert (done.admitted, done.refused) == ([who["new"]], {"reenter never": 1})


@pytest.mark.parametrize("asked", [12_000, 3_000])
def test_many_or_few_contacts_the_rules_are_read_with_a_query_each(
    uow: UnitOfWork, asked: int
) -> None:
    """Beyond 5,000 contacts each rule is read over the store, up to it for the contacts
    asked: the same refusals either way, with a query per rule (the runs read for
    ``max_active`` and ``reenter_after_days``, the contacts, the tags, the segments)."""
    with uow.transaction() as session:
        service.save(session, RULED, now=NOW)
        service.set_status(session, "ruled", "active", now=NOW)
        contacts = [
            {"id": f"c{i:05d}", "attributes": {}, "created_at": NOW, "updated_at": NOW}
            for i in range(asked)
        ]
        session.execute(Contact.__table__.insert(), contacts)  # type: ignore[attr-defined]
        ids = [c["id"] for c in contacts]
        live = _live(session, "ruled")
        assert enroll_many(session, live, ids[::3], entry_key="a", now=NOW) == len(ids[::3])
        _runs(session, "ruled", ids[0], "b")  # a second run under way: full
        _runs(session, "ruled", ids[1], "b")
        _end(session, ids[1], 2)  # both its runs ended two days ago: too lately
        session.add(ContactTag(contact_id=ids[2], tag="no-mail", created_at=NOW))
        _rfm(session, ids[4], "Lost")
        session.get(Contact, ids[5]).erased_at = NOW  # type: ignore[union-attr]
        # a bystander the rules would refuse, not asked: it changes nothing
        session.add(
            ContactTag(contact_id=resolve(session, {"user_id": "x"}, NOW).id, tag="no-mail")
        )
    # One enrolment's rules, asked one contact at a time, for the five the rules refuse, one
    # with a run under way (ids[3]) and a spread of the others, with and without a run (asking
    # it for all 12,000 cost 10 CPU seconds): the bulk path must answer them the same way.
    sample = [*ids[:6], *ids[6::500]]
    with uow.transaction() as session:
        live = _live(session, "ruled")
        one_by_one = {
            c for c in sample if service.may_enter(session, "ruled", live.rules, c, now=NOW)
        }
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    with uow.transaction() as session:
        live = _live(session, "ruled")
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            done = enrol_set(session, live, ids, entry_key="c", now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert set(done.admitted).intersection(sample) == one_by_one
    assert set(done.admitted) == set(ids) - {ids[0], ids[1], ids[2], ids[4], ids[5]}
    assert done.started == asked - 5
    assert done.refused == {
        "max_active": 1,
        "reenter_after_days": 1,
        "suppress_tags": 1,
        "suppress_segments": 1,
        "contact gone": 1,
    }
    assert len(reads) == 5
