"""The dispatcher on SQLite and PostgreSQL: consent, idempotency, crashes, retries, policy."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import MAX_ATTEMPTS, SENDING_LEASE
from lealta.channels.outbox import enqueue
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.contacts.consent import record_consent
from lealta.identity.service import resolve
from lealta.keys.service import create_key
from lealta.privacy.erase import erase_contact
from lealta.rest.app import create_app
from tests.integration.channels.conftest import START, Outbox


def test_a_message_is_sent_once_and_recorded_on_the_timeline(box: Outbox) -> None:
    ana = box.person("ana@example.com", first_name="Ana")
    box.enqueue("welcome:ana", ana, run_id="run-1")
    report = box.dispatch()
    assert (report.claimed, report.sent) == (1, 1)
    [delivery] = box.email.deliveries
    assert delivery.idempotency_key == "welcome:ana"
    assert delivery.recipient["email"] == "ana@example.com"
    assert delivery.recipient["first_name"] == "Ana"
    assert delivery.payload == {"name": "Ana"}
    assert delivery.attempt == 1
    row = box.row("welcome:ana")
    assert row.status == "sent"
    assert row.provider_id == "email-1"
    assert row.sent_at is not None
    assert row.sent_at.replace(tzinfo=dt.UTC) == START
    assert box.events(ana) == [
        (
            "Message Sent",
            {
                "channel": "email",
                "template": "welcome",
                "outbox_id": row.id,
                "run_id": "run-1",
                "provider_id": "email-1",
            },
        )
    ]
    assert box.dispatch().claimed == 0
    assert len(box.email.deliveries) == 1


def test_no_consent_means_nothing_is_sent(box: Outbox) -> None:
    never_asked = box.person("bo@example.com", consent=None)
    withdrew = box.person("cy@example.com", consent="denied")
    box.enqueue("a", never_asked)
    box.enqueue("b", withdrew)
    report = box.dispatch()
    assert (report.sent, report.suppressed) == (0, 2)
    assert box.email.calls == 0
    for key, who in (("a", never_asked), ("b", withdrew)):
        row = box.row(key)
        assert (row.status, row.error) == ("suppressed", "no consent for email")
        assert [name for name, _ in box.events(who)] == ["Message Suppressed"]
        assert box.events(who)[0][1]["reason"] == "no consent for email"


def test_consent_withdrawn_after_enqueueing_is_respected(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    with box.services.uow.transaction() as session:
        record_consent(session, ana, "email", "denied", source="unsubscribe", at=START)
    box.dispatch()
    assert box.row("k").status == "suppressed"
    assert box.email.calls == 0


def test_enqueueing_the_same_key_twice_keeps_one_message(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    with box.services.uow.transaction() as session:
        first = enqueue(
            session,
            key="k",
            contact_id=ana,
            channel="email",
            template="t",
            payload={},
            not_before=START,
        )
        again = enqueue(
            session,
            key="k",
            contact_id=ana,
            channel="email",
            template="other",
            payload={},
            not_before=START,
        )
        assert first is not None
        assert first.status == "pending"
        assert again is None
    box.enqueue("k", ana, template="third")
    with box.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    box.dispatch()
    assert [d.template for d in box.email.deliveries] == ["t"]


def test_a_crash_between_sending_and_recording_never_sends_twice(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    row = box.row("k")
    # The worker marked the row sending, the provider accepted it, then the process died.
    box.email.send(
        Delivery(row.id, "k", ana, "email", "welcome", {}, {"email": "ana@example.com"}, 1)
    )
    with box.services.uow.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id)
            .values(status="sending", attempts=1, not_before=START + SENDING_LEASE)
        )
    assert box.dispatch().claimed == 0  # still leased to the dead worker
    box.clock.advance(minutes=10)
    report = box.dispatch()
    assert report.sent == 1
    assert box.email.keys() == ["k"]  # one delivery per key
    assert box.email.repeats == 1  # the re-send reused the key and was recognised
    after = box.row("k")
    assert (after.status, after.attempts) == ("sent", 2)
    assert after.provider_id == "email-1"
    assert [name for name, _ in box.events(ana)] == ["Message Sent"]


def test_transient_failures_are_retried_with_backoff_then_sent(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    box.email.fail_transiently(2, "421 try later")
    assert box.dispatch().retrying == 1
    row = box.row("k")
    assert (row.status, row.attempts, row.error) == ("pending", 1, "421 try later")
    assert row.not_before.replace(tzinfo=dt.UTC) == START + dt.timedelta(minutes=2)
    assert box.dispatch().claimed == 0  # not due yet
    box.clock.advance(minutes=2)
    assert box.dispatch().retrying == 1
    assert box.row("k").not_before.replace(tzinfo=dt.UTC) == START + dt.timedelta(minutes=6)
    box.clock.advance(minutes=4)
    assert box.dispatch().sent == 1
    final = box.row("k")
    assert (final.status, final.attempts, final.error) == ("sent", 3, None)
    assert box.email.keys() == ["k"]


def test_a_message_that_keeps_failing_transiently_fails_after_the_last_attempt(
    box: Outbox,
) -> None:
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    box.email.fail_transiently(100, "timeout")
    for _ in range(MAX_ATTEMPTS):
        box.dispatch()
        box.clock.advance(hours=6)
    row = box.row("k")
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.error == f"gave up after {MAX_ATTEMPTS} attempts: timeout"
    assert [name for name, _ in box.events(ana)] == ["Message Failed"]
    assert box.dispatch().claimed == 0


def test_a_permanent_failure_is_final(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    box.email.fail_permanently("promo", "550 mailbox does not exist")
    box.enqueue("k", ana, template="promo")
    assert box.dispatch().failed == 1
    row = box.row("k")
    assert (row.status, row.error, row.attempts) == ("failed", "550 mailbox does not exist", 1)
    [(name, properties)] = box.events(ana)
    assert name == "Message Failed"
    assert properties["reason"] == "550 mailbox does not exist"
    box.clock.advance(days=1)
    assert box.dispatch().claimed == 0


def test_quiet_hours_postpone_to_the_morning_in_the_contacts_zone(box: Outbox) -> None:
    box.clock.current = dt.datetime(2025, 6, 2, 20, 30, tzinfo=dt.UTC)  # 22:30 in Madrid
    ana = box.person("ana@example.com", timezone="Europe/Madrid")
    lon = box.person("lon@example.com", timezone="America/Los_Angeles")  # 13:30 there
    box.enqueue("ana", ana)
    box.enqueue("lon", lon)
    report = box.dispatch(quiet=QuietHours("21:00", "08:00"))
    assert (report.postponed, report.sent) == (1, 1)
    assert box.email.keys() == ["lon"]
    waiting = box.row("ana")
    assert (waiting.status, waiting.hold) == ("held", "quiet_hours 21:00-08:00")
    assert waiting.not_before.replace(tzinfo=dt.UTC) == dt.datetime(2025, 6, 3, 6, 0, tzinfo=dt.UTC)
    box.clock.current = dt.datetime(2025, 6, 3, 5, 59, tzinfo=dt.UTC)
    assert box.dispatch(quiet=QuietHours()).claimed == 0
    box.clock.advance(minutes=1)
    assert box.dispatch(quiet=QuietHours()).sent == 1
    assert box.email.keys() == ["lon", "ana"]


def test_a_frequency_cap_suppresses_the_fourth_message_in_a_week(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    weekly = (FrequencyCap(3, 7),)
    for day in range(4):
        box.enqueue(f"m{day}", ana, template=f"flow-{day}")
        box.dispatch(caps=weekly)
        box.clock.advance(days=1)
    assert box.email.keys() == ["m0", "m1", "m2"]
    fourth = box.row("m3")
    assert fourth.status == "suppressed"
    assert fourth.error == "frequency cap reached: 3 messages per 7 days"
    # a week after the first, there is room again
    box.clock.current = START + dt.timedelta(days=7, minutes=1)
    box.enqueue("m7", ana)
    box.dispatch(caps=weekly)
    assert box.email.keys() == ["m0", "m1", "m2", "m7"]


def test_a_cap_counts_messages_claimed_in_the_same_pass(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    bo = box.person("bo@example.com")
    for n in range(3):
        box.enqueue(f"ana-{n}", ana)
        box.enqueue(f"bo-{n}", bo)
    report = box.dispatch(caps=(FrequencyCap(2, 1),))
    assert (report.sent, report.suppressed) == (4, 2)
    assert sorted(box.email.keys()) == ["ana-0", "ana-1", "bo-0", "bo-1"]


def test_an_unknown_channel_fails_and_an_erased_contact_is_suppressed(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    gone = box.person("gone@example.com")
    box.enqueue("pigeon", ana, channel="pigeon")
    box.enqueue("late", gone)
    with box.services.uow.transaction() as session:
        erase_contact(session, gone, now=START)
    # The erasure itself withdrew the unsent message, so the dispatcher never claims it.
    report = box.dispatch()
    assert (report.failed, report.suppressed, report.sent) == (1, 0, 0)
    assert box.row("pigeon").error == "no channel named 'pigeon' is configured"
    assert (box.row("late").status, box.row("late").error) == ("suppressed", "contact erased")


def test_a_contact_without_an_address_for_the_channel_fails(box: Outbox) -> None:
    with box.services.uow.transaction() as session:
        contact = resolve(session, {"user_id": "u-1"}, START)
        record_consent(session, contact.id, "email", "granted", source="test", at=START)
        who = contact.id
    box.enqueue("k", who)
    assert box.dispatch().failed == 1
    assert box.row("k").error == "contact has no email"
    assert box.email.calls == 0


def test_the_outbox_can_be_inspected_over_the_api(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    bo = box.person("bo@example.com", consent=None)
    box.enqueue("ana", ana)
    box.enqueue("bo", bo)
    box.dispatch()
    with box.services.uow.transaction() as session:
        key = create_key(session, scope="admin", name="t", now=START).key
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(box.services)) as client:
        sent = client.get("/v1/outbox", params={"status": "sent"}, headers=headers)
        assert sent.status_code == 200, sent.text
        [message] = sent.json()["messages"]
        assert message["idempotency_key"] == "ana"
        assert message["provider_id"] == "email-1"
        assert message["sent_at"] == "2025-06-02T10:00:00Z"
        mine = client.get("/v1/outbox", params={"contact_id": bo}, headers=headers).json()
        assert [(m["status"], m["error"]) for m in mine["messages"]] == [
            ("suppressed", "no consent for email")
        ]
        assert len(client.get("/v1/outbox", headers=headers).json()["messages"]) == 2
        timeline = client.get(f"/v1/contacts/{ana}/timeline", headers=headers).json()
        assert "Message Sent" in [entry["title"] for entry in timeline["entries"]]
        wrong = client.get("/v1/outbox", params={"status": "lost"}, headers=headers)
        assert wrong.status_code == 422
        assert client.get("/v1/outbox").status_code == 401


def test_a_webhook_needs_no_consent_and_does_not_count_toward_caps(box: Outbox) -> None:
    webhook = RecordingChannel("webhook", requires_consent=False)
    channels = {"email": box.email, "webhook": webhook}
    ana = box.person("ana@example.com", consent=None, timezone="Europe/Madrid")
    bo = box.person("bo@example.com")
    box.enqueue("hook", ana, channel="webhook", template="https://shop.example/hook")
    box.enqueue("hook-bo", bo, channel="webhook", template="https://shop.example/hook")
    box.enqueue("mail-bo", bo)
    box.clock.current = dt.datetime(2025, 6, 2, 22, 0, tzinfo=dt.UTC)  # midnight in Madrid
    report = box.dispatch(channels=channels, caps=(FrequencyCap(1, 7),), quiet=QuietHours())
    assert report.sent == 2  # both webhooks; bo's e-mail waits for bo's quiet hours (UTC)
    assert webhook.keys() == ["hook", "hook-bo"]
    box.clock.current = dt.datetime(2025, 6, 3, 8, 0, tzinfo=dt.UTC)
    assert box.dispatch(channels=channels, caps=(FrequencyCap(1, 7),), quiet=QuietHours()).sent == 1
    assert box.email.keys() == ["mail-bo"]  # the webhook did not use up bo's one message
