"""Deliveries posted by providers count once as delivered on their message, and act on nobody."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.feedback_reports.conftest import Shop
from tests.integration.feedback_reports.test_bounce_webhook import post
from tests.unit.feedback_reports import samples

POSTMARK_ID = "883953f4-6105-42a2-a16a-77a8eac79483"

# Each provider's delivery for ana's e-mail: the provider id the e-mail was stored with, and the
# body given the e-mail's outbox id.
DELIVERIES: dict[str, tuple[str, Callable[[int], Any]]] = {
    "ses": (samples.MESSAGE_ID, lambda _: samples.sns(samples.ses_delivery("ana@example.com"))),
    "ses-header": (
        "<elsewhere@mail.shop.example>",
        lambda outbox: samples.ses_delivery(message_id="<x@y>", outbox_header=str(outbox)),
    ),
    "sendgrid": (samples.MESSAGE_ID, lambda _: samples.sendgrid_delivered("ana@example.com")),
    "mailgun": (samples.MESSAGE_ID, lambda _: samples.mailgun(event="delivered")),
    "postmark": (POSTMARK_ID, lambda _: samples.postmark_delivery("ana@example.com")),
    "generic": (
        "<m-ana@mail.shop.example>",
        lambda _: samples.generic_delivery(message_id="m-ana@mail.shop.example"),
    ),
}


def delivered(api: Api) -> dict[str, int]:
    """The message report's delivered count per template."""
    answer = api.client.get("/v1/reports/messages", params={"by": "template"}, headers=api.admin)
    assert answer.status_code == 200, answer.text
    return {row["template"]: row["delivered"] for row in answer.json()["rows"]}


@pytest.mark.parametrize("case", list(DELIVERIES))
def test_a_delivery_counts_once_as_delivered_on_its_message(
    api: Api, shop: Shop, case: str
) -> None:
    provider_id, body = DELIVERIES[case]
    ana = shop.person("ana@example.com")
    message = shop.sent(ana, provider_id=provider_id)
    shop.sent(ana, template="reminder", provider_id="<other@mail.shop.example>")
    assert delivered(api) == {"welcome": 0, "reminder": 0}

    first = post(api, body(message))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "provider": case.split("-")[0],
        "events": 1,
        "applied": 1,
        "duplicates": 0,
        "ignored": 0,
        "unmatched": 0,
        "suppressed": [],
        "subscribe_url": None,
    }
    assert delivered(api) == {"welcome": 1, "reminder": 0}

    again = post(api, body(message)).json()
    assert (again["applied"], again["duplicates"]) == (0, 1)
    assert delivered(api) == {"welcome": 1, "reminder": 0}
    (interaction,) = shop.interactions("delivered")
    assert interaction.outbox_id == message
    assert interaction.details["address"] == "ana@example.com"
    # As an SMS delivery report does, a delivery goes on the timeline, once.
    (event,) = shop.events(ana, "Email Delivered")
    assert event.properties["outbox_id"] == message
    assert shop.suppression("ana@example.com") is None
    assert shop.email_consent(ana) == "granted"


def test_a_delivery_naming_no_message_of_ours_is_ignored(api: Api, shop: Shop) -> None:
    ana = shop.person("ana@example.com")
    shop.sent(ana, provider_id="<ours@mail.shop.example>")  # recent, but not the one named
    bodies = [
        samples.sns(samples.ses_delivery("ana@example.com", message_id="<theirs@x>")),
        samples.generic_delivery("ana@example.com"),  # names no message at all
        samples.generic_delivery("zoe@example.com", message_id="theirs@x"),  # nobody we know
        samples.postmark_delivery("ana@example.com", metadata={"lealta_message": "999999"}),
    ]
    for body in bodies:
        answer = post(api, body)
        assert answer.status_code == 200, answer.text
        counts = answer.json()
        assert (counts["events"], counts["ignored"], counts["applied"]) == (0, 1, 0), body
        assert (counts["unmatched"], counts["suppressed"]) == (0, [])
    assert shop.interactions("delivered") == []
    assert shop.events(ana, "Email Delivered") == []
    assert delivered(api) == {"welcome": 0}


def test_a_batch_with_a_delivery_and_a_bounce_of_one_message_records_both(
    api: Api, shop: Shop
) -> None:
    ana = shop.person("ana@example.com")
    message = shop.sent(ana, provider_id=samples.MESSAGE_ID)
    bounce = next(e for e in samples.sendgrid() if e["sg_event_id"] == "sg-bounce-1")
    batch = [*samples.sendgrid_delivered("ana@example.com"), bounce]
    answer = post(api, batch).json()
    assert (answer["events"], answer["applied"], answer["suppressed"]) == (
        2,
        2,
        ["ana@example.com"],  # the bounce, not the delivery
    )
    assert [i.outbox_id for i in shop.interactions("delivered")] == [message]
    assert [i.outbox_id for i in shop.interactions("bounced")] == [message]
