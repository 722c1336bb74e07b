"""At most once across crashes, the suppression list, priorities and rendering."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import SENDING_LEASE
from lealta.channels.tables import OutboxMessage, Suppression
from lealta.channels.testing import RecordingChannel
from tests.integration.channels.conftest import START, Outbox


def _set(box: Outbox, key: str, **values: Any) -> None:
    with box.services.uow.transaction() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.idempotency_key == key).values(**values)
        )


def test_a_message_interrupted_mid_send_is_not_sent_again_by_a_channel_that_cannot_tell(
    box: Outbox,
) -> None:
    smtp_like = RecordingChannel("email")
    smtp_like.idempotent = False  # like SMTP: a repeated key would arrive twice
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    _set(box, "k", status="sending", attempts=1, not_before=START + SENDING_LEASE)
    assert box.dispatch(channels={"email": smtp_like}).claimed == 0  # still leased
    box.clock.advance(minutes=10)
    report = box.dispatch(channels={"email": smtp_like})
    assert (report.failed, report.sent, smtp_like.calls) == (1, 0, 0)
    row = box.row("k")
    assert row.status == "failed"
    assert str(row.error).startswith("interrupted while being sent")
    assert [name for name, _ in box.events(ana)] == ["Message Failed"]


def test_a_claimed_message_never_handed_to_its_channel_is_sent_after_the_lease(
    box: Outbox,
) -> None:
    smtp_like = RecordingChannel("email")
    smtp_like.idempotent = False
    ana = box.person("ana@example.com")
    box.enqueue("k", ana)
    _set(box, "k", status="claimed", not_before=START + SENDING_LEASE)
    box.clock.advance(minutes=10)
    assert box.dispatch(channels={"email": smtp_like}).sent == 1
    assert smtp_like.keys() == ["k"]
    assert (box.row("k").status, box.row("k").attempts) == ("sent", 1)


def test_an_address_on_the_suppression_list_gets_nothing(box: Outbox) -> None:
    ana = box.person("Ana@Example.com")
    box.enqueue("k", ana)
    with box.services.uow.transaction() as session:
        session.add(Suppression(channel="email", address="ana@example.com", reason="bounce"))
    report = box.dispatch()
    assert (report.suppressed, box.email.calls) == (1, 0)
    assert box.row("k").error == "email is on the suppression list"


def test_transactional_messages_go_before_bulk_ones(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    for n in range(3):
        box.enqueue(f"bulk-{n}", ana)
    box.enqueue("receipt", ana)
    _set(box, "receipt", priority=10)
    box.dispatch(limit=2)
    assert box.email.keys() == ["receipt", "bulk-0"]


def test_each_message_is_rendered_for_its_person_or_fails_with_the_reason(box: Outbox) -> None:
    ana = box.person("ana@example.com", first_name="Ana")
    bo = box.person("bo@example.com")
    box.enqueue("ana", ana, template="hello")
    box.enqueue("bo", bo, template="broken")

    def render(session: Session, deliveries: Sequence[Delivery]) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for delivery in deliveries:
            if delivery.template == "broken":
                out[delivery.outbox_id] = "line 1: unexpected '}'"
            else:
                name = delivery.recipient.get("first_name", "there")
                out[delivery.outbox_id] = {"subject": f"Hello {name}", "text": "Hi"}
        return out

    report = box.dispatch(render=render)
    assert (report.sent, report.failed) == (1, 1)
    [delivery] = box.email.deliveries
    assert delivery.content == {"subject": "Hello Ana", "text": "Hi"}
    assert box.row("bo").error == "template 'broken': line 1: unexpected '}'"


def test_on_site_messages_are_left_for_the_page_to_show(box: Outbox) -> None:
    ana = box.person("ana@example.com")
    box.enqueue("banner", ana, channel="onsite", payload={"slot": "top"})
    assert box.dispatch().claimed == 0
    assert box.row("banner").status == "pending"


def test_a_worker_told_to_stop_hands_back_what_it_has_not_sent(box: Outbox) -> None:
    import threading

    ana = box.person("ana@example.com")
    for n in range(5):
        box.enqueue(f"k{n}", ana)
    stop = threading.Event()

    class Stopping(RecordingChannel):
        def send(self, delivery: Any) -> str:
            stop.set()  # the stop arrives while the first message is being sent
            return super().send(delivery)

    channel = Stopping("email")
    report = box.dispatch(channels={"email": channel}, stop=stop)
    assert (report.claimed, report.sent) == (5, 1)
    assert channel.keys() == ["k0"]
    assert [box.row(f"k{n}").status for n in range(5)] == ["sent"] + ["pending"] * 4
    assert box.dispatch().sent == 4  # the next pass (or worker) sends the rest
