"""Messages held for quiet hours say so, and a change of the hours releases them."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient

from lealta.channels.policy import QuietHours
from lealta.channels.sender import Sender
from lealta.keys.service import create_key
from lealta.rest.app import create_app
from tests.integration.channels.conftest import START, Outbox

NIGHT = dt.datetime(2025, 6, 2, 21, 30, tzinfo=dt.UTC)  # 23:30 in Madrid and Rome
MORNING_IN_MADRID = dt.datetime(2025, 6, 3, 6, 0, tzinfo=dt.UTC)
NIGHTLY = QuietHours("21:00", "08:00")


@pytest.fixture
def night(box: Outbox) -> Outbox:
    box.clock.current = NIGHT
    return box


def test_a_held_message_says_it_is_held_why_and_until_when(night: Outbox) -> None:
    rome = night.person("ana@example.com", timezone="Europe/Rome")
    nowhere = night.person("bo@example.com")
    night.enqueue("rome", rome)
    night.enqueue("nowhere", nowhere)
    report = night.dispatch(quiet=NIGHTLY)
    assert (report.postponed, report.sent) == (2, 0)
    assert report.held_from == MORNING_IN_MADRID
    assert report.held_until == dt.datetime(2025, 6, 3, 8, 0, tzinfo=dt.UTC)
    held = night.row("rome")
    assert (held.status, held.hold) == ("held", "quiet_hours 21:00-08:00")
    assert held.error == (
        "quiet hours 21:00-08:00 in Europe/Rome until 2025-06-03 08:00 local time"
    )
    assert night.row("nowhere").error == (
        "quiet hours 21:00-08:00 in UTC (the contact has no time zone)"
        " until 2025-06-03 08:00 local time"
    )
    assert night.events(rome) == []  # nothing final happened to it yet


def test_a_message_held_under_the_hours_in_force_is_not_read_again(night: Outbox) -> None:
    night.enqueue("k", night.person("ana@example.com", timezone="Europe/Madrid"))
    night.dispatch(quiet=NIGHTLY)
    night.clock.advance(minutes=30)
    assert night.dispatch(quiet=NIGHTLY).claimed == 0
    night.clock.current = MORNING_IN_MADRID
    report = night.dispatch(quiet=NIGHTLY)
    assert report.sent == 1
    sent = night.row("k")
    assert (sent.status, sent.hold, sent.error) == ("sent", None, None)


def test_shrinking_the_quiet_hours_releases_held_messages_at_once(night: Outbox) -> None:
    night.enqueue("k", night.person("ana@example.com", timezone="Europe/Madrid"))
    night.dispatch(quiet=NIGHTLY)
    report = night.dispatch(quiet=QuietHours("23:45", "07:00"))  # 23:30 in Madrid: allowed
    assert (report.claimed, report.sent) == (1, 1)
    assert night.email.keys() == ["k"]


def test_turning_quiet_hours_off_releases_held_messages(night: Outbox) -> None:
    night.enqueue("k", night.person("ana@example.com", timezone="Europe/Madrid"))
    night.dispatch(quiet=NIGHTLY)
    assert night.dispatch(quiet=None).sent == 1
    assert night.row("k").status == "sent"


def test_moving_the_quiet_hours_holds_again_until_the_new_end(night: Outbox) -> None:
    night.enqueue("k", night.person("ana@example.com", timezone="Europe/Madrid"))
    night.dispatch(quiet=NIGHTLY)
    later = QuietHours("23:00", "09:00")
    report = night.dispatch(quiet=later)
    assert (report.claimed, report.postponed, report.sent) == (1, 1, 0)
    held = night.row("k")
    assert held.hold == "quiet_hours 23:00-09:00"
    assert held.not_before.replace(tzinfo=dt.UTC) == MORNING_IN_MADRID + dt.timedelta(hours=1)
    assert night.dispatch(quiet=later).claimed == 0


def test_a_held_message_whose_consent_is_withdrawn_is_suppressed_when_reconsidered(
    night: Outbox,
) -> None:
    from lealta.contacts.consent import record_consent

    ana = night.person("ana@example.com", timezone="Europe/Madrid")
    night.enqueue("k", ana)
    night.dispatch(quiet=NIGHTLY)
    with night.services.uow.transaction() as session:
        record_consent(session, ana, "email", "denied", source="test", at=NIGHT)
    night.clock.current = MORNING_IN_MADRID
    assert night.dispatch(quiet=NIGHTLY).suppressed == 1
    assert night.row("k").status == "suppressed"


def test_the_worker_logs_one_line_for_the_messages_it_holds(
    night: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(3):
        night.enqueue(f"k{n}", night.person(f"p{n}@example.com", timezone="Europe/Madrid"))
    sender = Sender(night.services, night.channels, render=lambda session, deliveries: {}, batch=2)
    with caplog.at_level(logging.INFO, logger="lealta.channels.sender"):
        done = sender.drain()
    assert done.postponed == 3
    lines = [r.getMessage() for r in caplog.records if "quiet hours" in r.getMessage()]
    assert lines == [
        "held 3 messages for quiet hours (21:00-08:00 in each contact's time zone); they go out"
        " at 2025-06-03 06:00 UTC (set LEALTA_QUIET_HOURS to change)"
    ]


def test_the_outbox_api_lists_held_messages_with_their_reason(night: Outbox) -> None:
    night.enqueue("held", night.person("ana@example.com", timezone="Europe/Madrid"))
    night.enqueue("sent", night.person("lon@example.com", timezone="America/Los_Angeles"))
    night.dispatch(quiet=NIGHTLY)
    with night.services.uow.transaction() as session:
        key = create_key(session, scope="admin", name="t", now=START).key
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(night.services)) as client:
        answer = client.get("/v1/outbox", params={"status": "held"}, headers=headers)
        assert answer.status_code == 200, answer.text
        [message] = answer.json()["messages"]
    assert message["idempotency_key"] == "held"
    assert message["status"] == "held"
    assert message["hold"] == "quiet_hours 21:00-08:00"
    assert message["not_before"] == "2025-06-03T06:00:00Z"
    assert message["error"].startswith("quiet hours 21:00-08:00 in Europe/Madrid until")
