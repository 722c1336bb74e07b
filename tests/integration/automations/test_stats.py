"""Workflow statistics count what became of each message: sent, suppressed (by reason),
failed, held for quiet hours, waiting; a message suppressed for lack of consent is not sent."""

from __future__ import annotations

import datetime as dt

from lealta.channels.dispatcher import dispatch_due
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.channels.tables import Suppression
from lealta.channels.testing import RecordingChannel
from lealta.clock import FrozenClock
from tests.factories import outbox
from tests.integration.automations.journey import active_workflow, enrol, person
from tests.integration.conftest import Api

NOON = dt.datetime(2025, 6, 2, 12, 0, tzinfo=dt.UTC)  # midnight in Auckland


def test_stats_count_each_fate_of_the_workflows_messages(api: Api) -> None:
    services = api.services
    services.clock = FrozenClock(NOON)
    flow = active_workflow(services)
    sent = person(services, {"email": "ana@example.com"}, timezone="Europe/Madrid")
    no_consent = person(services, {"email": "bo@example.com"}, consent=False)
    listed = person(services, {"email": "cy@example.com"})
    capped = person(services, {"email": "di@example.com"})
    held = person(services, {"email": "ed@example.com"}, timezone="Pacific/Auckland")
    no_address = person(services, {"user_id": "fa"})
    with services.uow.transaction() as session:
        session.add(Suppression(channel="email", address="cy@example.com", reason="bounce"))
        # a message sent an hour ago, outside the workflow, fills di's cap
        an_hour_ago = NOON - dt.timedelta(hours=1)
        outbox.sent(session, capped, at=an_hour_ago, key="earlier", template="news")
    for contact in (sent, no_consent, listed, capped, held, no_address):
        enrol(services, flow, contact)
    dispatch_due(
        services,
        {"email": RecordingChannel("email")},
        caps=(FrequencyCap(1, 1),),
        quiet=QuietHours("21:00", "08:00"),
    )
    enrol(services, flow, person(services, {"email": "ga@example.com"}))  # not dispatched yet

    stats = api.client.get(f"/v1/automations/{flow}/stats", headers=api.admin).json()

    expected = {
        "queued": 7,
        "sent": 1,
        "suppressed": 3,
        "suppressed_by_reason": {"no_consent": 1, "suppression_list": 1, "frequency_cap": 1},
        "failed": 1,
        "held": 1,
        "waiting": 1,
    }
    assert stats["messages"] == expected
    hello = stats["steps"]["hello"]
    assert hello["outcomes"] == {"entered": 7, "queued": 7}
    assert hello["messages"] == expected
    assert stats["steps"]["pause"]["waiting"] == 7
    assert "messages" not in stats["steps"]["pause"]
    listed_stats = api.client.get("/v1/automations", headers=api.admin).json()["workflows"]
    assert listed_stats[0]["messages"]["sent"] == 1


def test_a_workflow_without_messages_counts_none(api: Api) -> None:
    flow = active_workflow(api.services)
    stats = api.client.get(f"/v1/automations/{flow}/stats", headers=api.admin).json()
    assert stats["messages"]["queued"] == 0
    assert stats["messages"]["suppressed_by_reason"] == {}
