"""A workflow's on-site messages, on SQLite and PostgreSQL: they take precedence over
placements, are shown exactly once, expire, and their impressions are opens."""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.config import Settings
from lealta.contacts.tables import Contact
from lealta.events.tables import Event
from lealta.onsite import service
from lealta.onsite.schemas import PlacementIn
from lealta.storage.retry import in_transaction
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.outbox import by_key
from tests.integration.conftest import Api
from tests.integration.onsite.conftest import message, templates, visitor

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)
SETTINGS = Settings(_env_file=None, environment="test", secret_key="onsite-test")


@pytest.fixture
def shop(uow: UnitOfWork) -> UnitOfWork:
    templates(uow)
    with uow.transaction() as session:
        service.save(
            session, "hero-all", PlacementIn(slot="hero", template="everyone-banner"), now=NOW
        )
    return uow


def choose(
    uow: UnitOfWork, contact_id: str | None, *slots: str, now: dt.datetime = NOW
) -> dict[str, service.Shown | None]:
    return in_transaction(
        uow,
        lambda session: service.choose(
            session,
            SETTINGS,
            contact_id=contact_id,
            slots=list(slots),
            now=now,
            page_url="https://shop.example/",
            anonymous_id="aid-1",
        ),
    )


def row(uow: UnitOfWork, key: str) -> OutboxMessage:
    with uow.transaction() as session:
        return by_key(session, key)


def test_a_workflow_message_for_the_slot_comes_first_and_is_shown_once(shop: UnitOfWork) -> None:
    contact = visitor(shop, "aid-1", now=NOW)
    message(shop, "m1", contact, slot="hero", now=NOW)
    message(shop, "m2", contact, slot="footer", now=NOW)

    first = choose(shop, contact, "hero", "sidebar")
    assert first["sidebar"] is None
    hero = first["hero"]
    assert hero is not None
    sent = row(shop, "m1")
    assert hero.message == sent.id
    assert hero.placement is None
    assert hero.template == "comeback"
    assert "We missed you" in hero.html
    assert sent.status == "sent"
    assert sent.sent_at is not None
    assert row(shop, "m2").status == "pending"  # its slot was not on this page

    again = choose(shop, contact, "hero")["hero"]
    assert again is not None
    assert again.placement == "hero-all"
    with shop.transaction() as session:
        logged = session.scalars(select(Event).where(Event.name == "Message Sent")).all()
        assert [
            (e.contact_id, e.properties["outbox_id"], e.properties["slot"]) for e in logged
        ] == [(contact, sent.id, "hero")]


def test_messages_wait_for_their_time_and_expire(shop: UnitOfWork) -> None:
    contact = visitor(shop, "aid-1", now=NOW)
    message(shop, "later", contact, slot="hero", now=NOW + dt.timedelta(hours=1))
    expiry = (NOW + dt.timedelta(minutes=5)).isoformat()
    message(shop, "short", contact, slot="hero", expires_at=expiry, now=NOW - dt.timedelta(hours=2))
    message(shop, "old", contact, slot="hero", now=NOW - dt.timedelta(days=31))
    message(
        shop,
        "garbled",
        contact,
        slot="hero",
        expires_at="next week",
        now=NOW - dt.timedelta(hours=1),
    )

    shown = choose(shop, contact, "hero", now=NOW + dt.timedelta(minutes=10))["hero"]
    assert shown is not None
    assert shown.placement == "hero-all"  # "later" is not due yet; the others expired
    assert (row(shop, "short").status, row(shop, "short").error) == ("failed", "expired")
    assert (row(shop, "old").status, row(shop, "old").error) == ("failed", "expired")
    assert row(shop, "garbled").status == "failed"
    assert "expires_at" in str(row(shop, "garbled").error)
    assert row(shop, "later").status == "pending"

    due = choose(shop, contact, "hero", now=NOW + dt.timedelta(hours=2))["hero"]
    assert due is not None
    assert due.message == row(shop, "later").id


def test_a_message_whose_template_fails_is_marked_failed_and_the_page_still_fills(
    shop: UnitOfWork,
) -> None:
    contact = visitor(shop, "aid-1", now=NOW)
    message(shop, "broken", contact, slot="hero", template="no-such-template", now=NOW)
    shown = choose(shop, contact, "hero")["hero"]
    assert shown is not None
    assert shown.placement == "hero-all"
    assert row(shop, "broken").status == "failed"


def test_pages_loading_at_once_show_a_message_exactly_once(shop: UnitOfWork) -> None:
    contact = visitor(shop, "aid-1", now=NOW)
    message(shop, "once", contact, slot="hero", now=NOW)
    results: list[service.Shown | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def load() -> None:
        try:
            start.wait()
            results.append(choose(shop, contact, "hero")["hero"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(str(r.message or r.placement) for r in results if r) == sorted(
        [str(row(shop, "once").id), "hero-all", "hero-all", "hero-all"]
    )


def test_an_erased_visitor_gets_no_personal_message(shop: UnitOfWork) -> None:
    contact = visitor(shop, "aid-1", now=NOW)
    message(shop, "m1", contact, slot="hero", now=NOW)
    with shop.transaction() as session:
        erased = session.get(Contact, contact)
        assert erased is not None
        erased.erased_at = NOW
    shown = choose(shop, contact, "hero")["hero"]
    assert shown is not None
    assert shown.placement == "hero-all"
    assert row(shop, "m1").status == "pending"


def test_over_the_api_the_message_s_impression_is_one_open(api: Api) -> None:
    uow = api.services.uow
    templates(uow)
    contact = visitor(uow, "aid-api")
    message(uow, "api-1", contact, slot="hero")
    answer = api.client.get(
        "/v1/onsite/slots",
        params={"slots": "hero", "anonymousId": "aid-api", "writeKey": api.track_key},
    )
    hero = answer.json()["slots"]["hero"]
    outbox_id = row(uow, "api-1").id
    assert hero["message"] == outbox_id
    assert hero["placement"] is None
    assert row(uow, "api-1").status == "sent"
    assert api.client.get(
        "/v1/onsite/slots",
        params={"slots": "hero", "anonymousId": "aid-api", "writeKey": api.track_key},
    ).json()["slots"] == {"hero": None}

    impression = urlsplit(hero["impression_url"])
    target = f"{impression.path}?{impression.query}"
    body = f'{{"writeKey": "{api.track_key}", "url": "https://shop.example/"}}'
    assert api.client.post(target, content=body).json() == {"recorded": True}
    assert api.client.post(target, content=body).json() == {"recorded": False}
    with uow.transaction() as session:
        opens = session.scalars(select(MessageInteraction)).all()
        assert [(o.outbox_id, o.kind, o.contact_id) for o in opens] == [
            (outbox_id, "opened", contact)
        ]
        assert opens[0].details == {"slot": "hero", "page": "https://shop.example/"}
