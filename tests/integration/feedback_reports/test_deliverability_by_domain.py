"""Bounces and complaints by domain on SQLite and PostgreSQL: read by kind (SQLite is steered
off the time index), counted only in the period and only on e-mails, hard, soft, complaints."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from lealta.feedback import behind, deliverability
from lealta.storage.unit_of_work import UnitOfWork
from tests.integration.feedback_reports.conftest import T0, Shop

SINCE, UNTIL = T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=1)
LATER = T0 + dt.timedelta(hours=2)


def _bounce(shop: Shop, who: str, address: str, kind: str = "bounced", **kw: str) -> None:
    sent = shop.sent(who, channel=kw.pop("channel", "email"))
    at = dt.datetime.fromisoformat(kw.pop("at")) if "at" in kw else LATER
    shop.interact(sent, kind, at, details={"address": address, **kw})


def test_bounces_and_complaints_per_domain_in_the_period(uow: UnitOfWork, shop: Shop) -> None:
    ana, bo, cy, di = (shop.person(f"{n}@example.com") for n in ("ana", "bo", "cy", "di"))
    _bounce(shop, ana, "ana@Gmail.com", bounce_type="hard")
    _bounce(shop, bo, "bo@gmail.com", bounce_type="soft")
    _bounce(shop, cy, "cy@example.org", kind="complained")
    _bounce(shop, di, "di@example.org")  # no type: hard
    _bounce(shop, di, "")  # no address: (unknown)
    _bounce(shop, ana, "ana@gmail.com", at=(T0 - dt.timedelta(days=5)).isoformat())  # before
    _bounce(shop, bo, "+34600000000", channel="sms")  # not an e-mail
    for i in range(30):  # opens and clicks in the period, which the kinds leave out
        shop.interact(shop.sent(ana), "opened" if i % 2 else "clicked", LATER)
    with uow.transaction() as session:
        found = {
            t.name: (t.hard, t.soft, t.complaints)
            for t in deliverability.by_domain(session, since=SINCE, until=UNTIL)
        }
        assert found == {
            "gmail.com": (1, 1, 0),
            "example.org": (1, 0, 1),
            deliverability.UNKNOWN: (1, 0, 0),
        }
        wanted = behind.Figure(
            kind="domain", since=SINCE, until=UNTIL, domain="gmail.com", figure="bounced"
        )
        assert {p.id for p in behind.people(session, wanted).people} == {ana, bo}


# PostgreSQL's planner chooses by its statistics of the kinds: the plan is SQLite's question
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_reads_the_bounces_by_kind(uow: UnitOfWork, shop: Shop) -> None:
    with uow.transaction() as session:
        at = deliverability.troubles(session, SINCE, UNTIL, ("bounced",))
        from sqlalchemy import select

        from lealta.channels.tables import MessageInteraction, OutboxMessage

        query = (
            select(MessageInteraction.id)
            .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
            .where(*at)
        )
        sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row) for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_message_interactions_kind_outbox" in plan
    assert "ix_message_interactions_at" not in plan
