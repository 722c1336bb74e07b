"""Unsubscribing: the page asks, a POST (the button or RFC 8058 one-click) unsubscribes."""

from __future__ import annotations

from sqlalchemy import select

from lealta.channels.dispatcher import dispatch_due
from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.contacts.consent import consents_in_force, may_contact
from tests.integration.feedback.conftest import Feedback


def test_following_the_link_only_asks(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.unsubscribe(outbox_id))
    page = feedback.api.client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="{path}">' in page.text
    assert "stop getting e-mails" in page.text
    assert "/l/p/" in page.text  # a way to the preference page
    assert feedback.api.client.head(path).status_code == 200
    with feedback.api.services.uow.transaction() as session:
        assert may_contact(session, ann, "email")
    assert feedback.interactions(outbox_id, "unsubscribed") == []


def test_one_click_unsubscribes_at_once_and_nothing_more_is_sent(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    sent = feedback.message(ann)
    waiting = feedback.message(ann, template="offer-reminder")
    path = feedback.path(feedback.links.unsubscribe(sent))
    client = feedback.api.client
    client.cookies.clear()
    answer = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.text
    with feedback.api.services.uow.transaction() as session:
        assert not may_contact(session, ann, "email")
        consent = consents_in_force(session, ann)["email"]
        assert (consent.status, consent.source) == ("denied", "unsubscribe-link")
        assert consent.proof["method"] == "one-click"
    [unsubscribed] = feedback.events(ann, "Unsubscribed")
    assert unsubscribed.properties["channel"] == "email"
    assert unsubscribed.properties["template"] == "reactivation-feedback"

    email = RecordingChannel("email")
    report = dispatch_due(feedback.api.services, {"email": email})
    assert email.deliveries == []
    assert report.suppressed == 2
    with feedback.api.services.uow.transaction() as session:
        status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == waiting))
    assert status == "suppressed"


def test_a_repeated_unsubscribe_is_recorded_once(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    outbox_id = feedback.message(ann)
    path = feedback.path(feedback.links.unsubscribe(outbox_id))
    for _ in range(3):
        answer = feedback.api.client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
        assert answer.status_code == 200
    assert len(feedback.interactions(outbox_id, "unsubscribed")) == 1
    assert len(feedback.events(ann, "Unsubscribed")) == 1
    with feedback.api.services.uow.transaction() as session:
        assert not may_contact(session, ann, "email")


def test_the_pages_button_unsubscribes_too(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com", channels=("email", "sms"))
    outbox_id = feedback.message(ann, channel="sms")
    answer = feedback.api.client.post(feedback.path(feedback.links.unsubscribe(outbox_id)))
    assert answer.status_code == 200
    assert "text messages" in answer.text
    with feedback.api.services.uow.transaction() as session:
        assert not may_contact(session, ann, "sms")
        assert may_contact(session, ann, "email")  # only the message's channel


def test_a_tampered_unsubscribe_link_changes_nothing(feedback: Feedback) -> None:
    ann = feedback.person("ann@example.com")
    bob = feedback.person("bob@example.com")
    anns = feedback.path(feedback.links.unsubscribe(feedback.message(ann)))
    bobs = feedback.path(feedback.links.unsubscribe(feedback.message(bob)))
    forged = anns.split(".")[0] + "." + bobs.split(".")[1]
    answer = feedback.api.client.post(forged, content=b"List-Unsubscribe=One-Click")
    assert answer.status_code == 400
    with feedback.api.services.uow.transaction() as session:
        assert may_contact(session, ann, "email")
        assert may_contact(session, bob, "email")


def test_an_unknown_message_gets_a_page_saying_so(feedback: Feedback) -> None:
    path = feedback.path(feedback.links.unsubscribe(424242))
    assert feedback.api.client.get(path).status_code == 404
    assert feedback.api.client.post(path).status_code == 404
