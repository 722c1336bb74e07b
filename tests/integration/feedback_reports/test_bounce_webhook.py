"""Bounces and complaints posted by providers suppress addresses, once, whatever the replays."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from lealta.feedback.bounces import webhook_token
from tests.integration.conftest import Api
from tests.integration.feedback_reports.conftest import T0, Shop
from tests.unit.feedback_reports import samples

URL = "/v1/feedback/bounces"


def post(api: Api, body: Any, **params: str) -> Any:
    token = webhook_token(api.services.settings.secret_key)
    return api.client.post(URL, params={"token": token, **params}, content=orjson.dumps(body))


def test_an_ses_hard_bounce_suppresses_the_address_and_marks_the_message(
    api: Api, shop: Shop
) -> None:
    ana = shop.person("ana@example.com")
    message = shop.sent(ana, provider_id=samples.MESSAGE_ID)  # stored with angle brackets
    other = shop.sent(ana, provider_id="<other@mail.shop.example>")
    # SNS posts with text/plain; the body is JSON all the same.
    answer = api.client.post(
        URL,
        params={"token": webhook_token(api.services.settings.secret_key)},
        content=orjson.dumps(samples.sns(samples.ses_bounce("ana@example.com"))),
        headers={"Content-Type": "text/plain; charset=UTF-8"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "provider": "ses",
        "events": 1,
        "applied": 1,
        "duplicates": 0,
        "ignored": 0,
        "unmatched": 0,
        "suppressed": ["ana@example.com"],
        "subscribe_url": None,
    }
    suppression = shop.suppression("ana@example.com")
    assert suppression is not None
    assert (suppression.reason, suppression.source) == ("bounce", "webhook:ses")
    (bounced,) = shop.interactions("bounced")
    assert bounced.outbox_id == message != other
    assert bounced.details["bounce_type"] == "hard"
    assert bounced.details["reason"] == "smtp; 550 5.1.1 user unknown"
    (event,) = shop.events(ana, "Email Bounced")
    assert event.properties["outbox_id"] == message
    assert shop.email_consent(ana) == "granted"  # a bounce is not a withdrawal


def test_a_replayed_webhook_changes_nothing(api: Api, shop: Shop) -> None:
    ana = shop.person("ana@example.com")
    shop.sent(ana, provider_id=samples.MESSAGE_ID)
    body = samples.sns(samples.ses_complaint("ana@example.com"))
    first = post(api, body).json()
    again = post(api, body).json()
    assert (first["applied"], first["duplicates"]) == (1, 0)
    assert (again["applied"], again["duplicates"]) == (0, 1)
    assert len(shop.interactions("complained")) == 1
    assert len(shop.events(ana, "Complaint Received")) == 1
    assert shop.consent_rows(ana, "denied") == 1


def test_a_complaint_suppresses_and_withdraws_email_consent(api: Api, shop: Shop) -> None:
    eva = shop.person("eva@example.com")
    message = shop.sent(eva, provider_id="<m-eva@mail.shop.example>")
    answer = post(
        api,
        samples.mailgun(
            "eva@example.com", event="complained", message_id="m-eva@mail.shop.example"
        ),
    )
    assert answer.status_code == 200, answer.text
    suppression = shop.suppression("eva@example.com")
    assert suppression is not None
    assert (suppression.reason, suppression.source) == ("complaint", "webhook:mailgun")
    assert shop.email_consent(eva) == "denied"
    (complained,) = shop.interactions("complained")
    assert complained.outbox_id == message


def test_the_message_named_by_the_lealta_header_is_found_without_a_message_id(
    api: Api, shop: Shop
) -> None:
    ana = shop.person("ana@example.com")
    first = shop.sent(ana)
    second = shop.sent(ana)
    body = samples.ses_bounce("ana@example.com", message_id="<unknown@x>", outbox_header=str(first))
    assert post(api, samples.sns(body)).json()["unmatched"] == 0
    (bounced,) = shop.interactions("bounced")
    assert bounced.outbox_id == first != second


def test_soft_bounces_suppress_only_at_the_third_within_thirty_days(api: Api, shop: Shop) -> None:
    bea = shop.person("bea@example.com")
    shop.sent(bea, provider_id="<m-bea@mail.shop.example>", at=T0 - dt.timedelta(days=60))

    def soft(day: int) -> dict[str, Any]:
        moment = (T0 + dt.timedelta(days=day)).timestamp()
        return post(
            api,
            samples.mailgun(
                "bea@example.com",
                severity="temporary",
                event_id=f"soft-{day}",
                message_id="m-bea@mail.shop.example",
                ts=moment,
            ),
        ).json()

    assert soft(-45)["suppressed"] == []  # too old to count with the next ones
    assert soft(0)["suppressed"] == []
    assert soft(10)["suppressed"] == []
    assert shop.suppression("bea@example.com") is None
    assert soft(20)["suppressed"] == ["bea@example.com"]
    suppression = shop.suppression("bea@example.com")
    assert suppression is not None
    assert suppression.details["soft_bounces"] == "3"
    assert len(shop.interactions("bounced")) == 4


def test_a_sendgrid_batch_acts_on_bounces_spam_reports_and_deliveries_and_ignores_the_rest(
    api: Api, shop: Shop
) -> None:
    ana = shop.person("ana@example.com")
    eva = shop.person("eva@example.com")
    shop.sent(ana, provider_id=samples.MESSAGE_ID)
    answer = post(api, samples.sendgrid("ana@example.com")).json()
    assert answer["provider"] == "sendgrid"
    assert (answer["events"], answer["ignored"]) == (5, 3)  # ana's delivery is read too
    assert sorted(answer["suppressed"]) == [
        "ana@example.com",
        "carl@example.com",
        "eva@example.com",
    ]
    assert shop.suppression("bea@example.com") is None  # one block is a soft bounce
    assert shop.email_consent(eva) == "denied"
    assert [i.contact_id for i in shop.interactions("bounced")] == [ana]


def test_an_event_about_an_unknown_message_still_suppresses_and_is_noted_once(
    api: Api, shop: Shop
) -> None:
    dan = shop.person("dan@example.com")
    body = samples.postmark_bounce("dan@example.com", message_id="not-ours")
    first = post(api, body).json()
    again = post(api, body).json()
    assert (first["unmatched"], first["applied"], first["suppressed"]) == (
        1,
        1,
        ["dan@example.com"],
    )
    assert (again["duplicates"], again["applied"]) == (1, 0)
    assert shop.interactions("bounced") == []
    (event,) = shop.events(dan, "Email Bounced")
    assert event.properties["provider"] == "postmark"
    # Nobody owns this one: suppressed all the same.
    assert post(api, samples.postmark_bounce("zoe@example.com", bounce_id=2)).status_code == 200
    assert shop.suppression("zoe@example.com") is not None


def test_a_recent_email_is_taken_when_the_provider_names_no_message(api: Api, shop: Shop) -> None:
    ana = shop.person("ana@example.com")
    shop.sent(ana, at=T0 - dt.timedelta(days=20))
    recent = shop.sent(ana, at=T0 - dt.timedelta(hours=2))
    body = {
        "type": "bounce",
        "email": "ana@example.com",
        "bounce_type": "hard",
        "reason": "550 no such user",
        "occurred_at": T0.isoformat(),
    }
    assert post(api, body).json()["unmatched"] == 0
    (bounced,) = shop.interactions("bounced")
    assert (bounced.outbox_id, bounced.details["matched_by"]) == (recent, "recent")


def test_an_sns_subscription_hands_back_the_url_to_confirm(api: Api) -> None:
    answer = post(api, samples.sns_subscription())
    assert answer.status_code == 200
    assert answer.json()["subscribe_url"].startswith("https://sns.eu-west-1.amazonaws.com/")
    assert answer.json()["events"] == 0


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"foo": 1}, "body", "unrecognised feedback format"),
        ({"type": "bounce", "email": "a@example.com"}, "bounce_type", "bounce_type"),
        (
            {"RecordType": "Bounce", "Type": "HardBounce", "Email": "a@b.io", "ID": 1},
            "BouncedAt",
            "not a time",
        ),
    ],
)
def test_what_cannot_be_read_is_a_400_naming_the_field(
    api: Api, body: Any, field: str, words: str
) -> None:
    answer = post(api, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["field"] == field
    assert words in error["message"]


def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    token = webhook_token(api.services.settings.secret_key)
    answer = api.client.post(URL, params={"token": token}, content=b"<xml/>")
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "body"


def test_an_admin_key_or_the_token_is_needed(api: Api) -> None:
    body = orjson.dumps({"type": "complaint", "email": "a@example.com"})
    assert api.client.post(URL, content=body).status_code == 401
    wrong = api.client.post(URL, params={"token": "x" * 32}, content=body)
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (401, "token")
    assert api.client.post(URL, content=body, auth=api.track_auth).status_code == 403
    assert api.client.post(URL, content=body, headers=api.admin).status_code == 200
    assert api.client.post(URL, content=body, auth=(api.admin_key, "")).status_code == 200


def test_a_provider_id_shared_by_recipients_finds_the_message_of_the_address(
    api: Api, shop: Shop
) -> None:
    ana = shop.person("ana@example.com")
    bea = shop.person("bea@example.com")
    # SendGrid's X-Message-Id names the request; one request may carry several people's mail.
    shop.sent(ana, provider_id="14c5d75ce93.dfd.64b469")
    for_bea = shop.sent(bea, provider_id="14c5d75ce93.dfd.64b469")
    shop.sent(ana, provider_id="14c5d75ce93.dfd.64b469")
    event = {
        "email": "bea@example.com",
        "timestamp": 1748858700,
        "event": "bounce",
        "type": "bounce",
        "reason": "550 no such user",
        "sg_event_id": "sg-bea",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B89.0",
    }
    assert post(api, [event]).json()["applied"] == 1
    (bounced,) = shop.interactions("bounced")
    assert bounced.outbox_id == for_bea
