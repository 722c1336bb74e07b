"""Every provider's bounce, complaint and delivery webhook reads into the same events."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.errors import InvalidInput
from lealta.feedback.bounces import token_matches, webhook_token
from lealta.feedback.providers import FeedbackEvent, detect, parse
from tests.unit.feedback_reports import samples

NOW = dt.datetime(2025, 6, 4, 12, 0, tzinfo=dt.UTC)
BARE_ID = "20250602100000.42.abcdef@mail.shop.example"


def only(document: object, provider: str | None = None) -> FeedbackEvent:
    parsed = parse(document, now=NOW, provider=provider)
    assert len(parsed.events) == 1, parsed
    return parsed.events[0]


def test_a_permanent_ses_bounce_in_its_sns_envelope_is_a_hard_bounce() -> None:
    event = only(samples.sns(samples.ses_bounce("Ana@Example.com", outbox_header="31")))
    assert (event.provider, event.kind, event.bounce_type) == ("ses", "bounce", "hard")
    assert event.email == "ana@example.com"
    assert event.occurred_at == dt.datetime(2025, 6, 2, 10, 5, 0, 123000, tzinfo=dt.UTC)
    assert event.message_ids[0] == BARE_ID
    assert event.outbox_id == 31
    assert event.reason == "smtp; 550 5.1.1 user unknown"
    assert event.event_id.endswith(":ana@example.com")


def test_a_transient_ses_bounce_is_soft_and_a_bare_notification_reads_too() -> None:
    event = only(samples.ses_bounce(bounce_type="Transient"))
    assert event.bounce_type == "soft"
    assert event.outbox_id is None


def test_an_ses_complaint_is_a_complaint_without_bounce_type() -> None:
    event = only(samples.sns(samples.ses_complaint()))
    assert (event.kind, event.bounce_type, event.reason) == ("complaint", None, "abuse")


def test_an_sns_subscription_is_not_fetched_but_its_url_is_handed_back() -> None:
    parsed = parse(samples.sns_subscription(), now=NOW)
    assert parsed.events == ()
    assert parsed.subscribe_url is not None
    assert parsed.subscribe_url.startswith("https://sns.eu-west-1.amazonaws.com/?Action=Confirm")


def test_an_ses_delivery_is_one_delivery_per_recipient() -> None:
    body = samples.ses_delivery("Ana@Example.com", "bea@example.com", outbox_header="31")
    parsed = parse(samples.sns(body), now=NOW)
    assert [(e.provider, e.kind, e.email) for e in parsed.events] == [
        ("ses", "delivery", "ana@example.com"),
        ("ses", "delivery", "bea@example.com"),
    ]
    ana = parsed.events[0]
    assert ana.bounce_type is None
    assert ana.occurred_at == dt.datetime(2025, 6, 2, 10, 0, 1, 546000, tzinfo=dt.UTC)
    assert ana.message_ids[0] == BARE_ID
    assert ana.outbox_id == 31
    assert ana.details["response"] == "250 2.6.0 Message received"
    assert ana.dedupe_key == only(samples.ses_delivery("ana@example.com")).dedupe_key
    assert ana.dedupe_key != parsed.events[1].dedupe_key


def test_an_ses_delivery_from_event_publishing_reads_the_same_and_skips_odd_recipients() -> None:
    parsed = parse(
        samples.ses_delivery("ana@example.com", "nobody", event_publishing=True), now=NOW
    )
    assert [(e.kind, e.email) for e in parsed.events] == [("delivery", "ana@example.com")]
    assert parsed.ignored == 1


def test_a_sendgrid_batch_keeps_bounces_drops_spam_reports_and_deliveries() -> None:
    parsed = parse(samples.sendgrid(), now=NOW)
    assert parsed.provider == "sendgrid"
    found = {(e.email, e.kind, e.bounce_type) for e in parsed.events}
    assert found == {
        ("ana@example.com", "delivery", None),
        ("ana@example.com", "bounce", "hard"),
        ("bea@example.com", "bounce", "soft"),  # a block is not the address's fault
        ("carl@example.com", "bounce", "hard"),  # dropped: already bounced at SendGrid
        ("eva@example.com", "complaint", None),
    }
    assert parsed.ignored == 3  # processed, an unsubscribed drop, an open
    bounce = next(e for e in parsed.events if e.kind == "bounce" and e.email == "ana@example.com")
    assert bounce.event_id == "sg-bounce-1"
    assert bounce.occurred_at == dt.datetime.fromtimestamp(1748858700, dt.UTC)
    assert BARE_ID in bounce.message_ids
    assert "14c5d75ce93.dfd.64b469" in bounce.message_ids
    spam = next(e for e in parsed.events if e.kind == "complaint")
    assert spam.outbox_id == 77


def test_a_sendgrid_delivered_event_names_its_message() -> None:
    event = only(samples.sendgrid_delivered("Ana@Example.com"))
    assert (event.provider, event.kind, event.bounce_type) == ("sendgrid", "delivery", None)
    assert (event.email, event.event_id) == ("ana@example.com", "sg-delivered-7")
    assert event.dedupe_key == "fb:sendgrid:sg-delivered-7"
    assert event.occurred_at == dt.datetime.fromtimestamp(1748858450, dt.UTC)
    assert BARE_ID in event.message_ids
    assert "14c5d75ce93.dfd.64b469" in event.message_ids
    assert event.details["response"].startswith("250 2.0.0 OK")


@pytest.mark.parametrize(("severity", "expected"), [("permanent", "hard"), ("temporary", "soft")])
def test_a_mailgun_failure_is_hard_or_soft_by_its_severity(severity: str, expected: str) -> None:
    event = only(samples.mailgun(severity=severity, variables={"lealta_message": 9}))
    assert (event.provider, event.kind, event.bounce_type) == ("mailgun", "bounce", expected)
    assert event.message_ids == (BARE_ID,)
    assert event.outbox_id == 9
    assert event.occurred_at.timestamp() == pytest.approx(1748858700.512)


def test_a_mailgun_complaint_and_an_open() -> None:
    assert only(samples.mailgun(event="complained")).kind == "complaint"
    assert parse(samples.mailgun(event="opened"), now=NOW).ignored == 1


def test_a_mailgun_delivery_names_its_message_and_the_outbox_row() -> None:
    event = only(samples.mailgun(event="delivered", variables={"lealta_message": "9"}))
    assert (event.provider, event.kind, event.bounce_type) == ("mailgun", "delivery", None)
    assert event.message_ids == (BARE_ID,)
    assert event.outbox_id == 9
    assert event.event_id == "G9Bn5sl1TC6nu79C8C0bwg:1748858700.512"
    assert event.details["status"] == 250


def test_a_postmark_hard_bounce_keeps_its_offset_time_in_utc() -> None:
    event = only(samples.postmark_bounce(metadata={"lealta_message": "5"}))
    assert (event.kind, event.bounce_type) == ("bounce", "hard")
    assert event.occurred_at == dt.datetime(2025, 6, 2, 10, 5, 0, 273539, tzinfo=dt.UTC)
    assert event.outbox_id == 5
    assert event.event_id == "Bounce:4323372036854775807"


def test_postmark_soft_bounces_complaints_and_auto_replies() -> None:
    assert only(samples.postmark_bounce(kind="SoftBounce", type_code=4096)).bounce_type == "soft"
    complaint = only(samples.postmark_complaint())
    assert (complaint.kind, complaint.outbox_id) == ("complaint", 12)
    assert parse(samples.postmark_bounce(kind="AutoResponder"), now=NOW).ignored == 1


def test_a_postmark_delivery_is_named_by_its_message_and_recipient() -> None:
    event = only(samples.postmark_delivery("Ana@Example.com", metadata={"lealta_message": "5"}))
    assert (event.provider, event.kind, event.bounce_type) == ("postmark", "delivery", None)
    assert event.email == "ana@example.com"
    assert event.occurred_at == dt.datetime(2025, 6, 2, 10, 0, 1, 907025, tzinfo=dt.UTC)
    assert event.outbox_id == 5
    assert event.message_ids == ("883953f4-6105-42a2-a16a-77a8eac79483",)
    assert event.event_id == "Delivery:883953f4-6105-42a2-a16a-77a8eac79483:ana@example.com"


def test_a_generic_delivery_without_id_or_time_has_the_same_id_on_every_replay() -> None:
    body = samples.generic_delivery("Ana@Example.com", message_id="<m1@shop.example>")
    first = parse(body, now=NOW).events[0]
    later = parse(body, now=NOW + dt.timedelta(hours=1)).events[0]
    assert (first.kind, first.email, first.bounce_type) == ("delivery", "ana@example.com", None)
    assert first.message_ids == ("m1@shop.example",)
    assert first.occurred_at == NOW
    assert first.dedupe_key == later.dedupe_key
    assert first.dedupe_key != only({**body, "outbox_id": 4}).dedupe_key
    assert only({**body, "id": "d-1", "bounce_type": "hard"}).bounce_type is None
    assert only({**body, "id": "d-1"}).dedupe_key == "fb:generic:d-1"


def test_the_generic_format_one_or_many() -> None:
    event = only(
        {
            "type": "bounce",
            "email": "ana@example.com",
            "bounce_type": "soft",
            "message_id": "<m1@shop.example>",
            "reason": "mailbox full",
            "occurred_at": "2025-06-02T10:00:00+02:00",
        }
    )
    assert (event.provider, event.bounce_type, event.message_ids) == (
        "generic",
        "soft",
        ("m1@shop.example",),
    )
    assert event.occurred_at == dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
    many = parse(
        [{"type": "complaint", "email": "a@example.com"}, {"type": "complaint", "email": "b@x.io"}],
        now=NOW,
    )
    assert [e.occurred_at for e in many.events] == [NOW, NOW]  # no time given: received now


def test_a_generic_event_without_id_gets_the_same_id_every_time() -> None:
    body = {"type": "bounce", "email": "a@example.com", "bounce_type": "hard", "message_id": "x"}
    assert only(body).event_id == only(dict(body)).event_id
    assert only(body).event_id != only({**body, "message_id": "y"}).event_id
    assert only({**body, "id": "evt-1"}).dedupe_key == "fb:generic:evt-1"


def test_very_long_provider_ids_make_short_dedupe_keys() -> None:
    event = only({"type": "complaint", "email": "a@example.com", "id": "x" * 200})
    assert len(event.dedupe_key) <= 100
    assert (
        event.dedupe_key
        == only({"type": "complaint", "email": "a@example.com", "id": "x" * 200}).dedupe_key
    )


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"hello": "world"}, "body", "got an object with keys hello"),
        ([], "body", "empty array"),
        ("bounce", "body", "JSON str"),
        ({"type": "bounce", "email": "a@example.com"}, "bounce_type", "required for a bounce"),
        ({"type": "bounced", "email": "a@example.com"}, "type", "type"),
        ({"type": "complaint", "email": "nobody"}, "email", "not an e-mail address"),
        (
            [{"type": "complaint", "email": "a@example.com"}, {"type": "complaint"}],
            "[1]email",
            "Field required",
        ),
        ({"Type": "Notification", "TopicArn": "t", "Message": "{nope"}, "Message", "not a JSON"),
        ({"notificationType": "Bounce", "mail": {}}, "bounce", "must be a JSON object"),
        ({"notificationType": "Delivery", "mail": {}}, "delivery", "must be a JSON object"),
        (
            {"eventType": "Delivery", "mail": {}, "delivery": {"recipients": "a@example.com"}},
            "delivery.recipients",
            "must be a list",
        ),
        (
            {"RecordType": "Delivery", "Recipient": "a@example.com", "MessageID": "m"},
            "DeliveredAt",
            "not a time",
        ),
        ({"RecordType": "Delivery", "Recipient": "nobody"}, "Recipient", "not an e-mail"),
        (
            {"event-data": {"event": "failed", "recipient": "a@example.com"}},
            "event-data.severity",
            "severity",
        ),
        (
            {"RecordType": "Bounce", "Type": "HardBounce", "Email": "a@example.com", "ID": 1},
            "BouncedAt",
            "not a time",
        ),
    ],
)
def test_what_cannot_be_read_is_refused_naming_the_field(
    body: object, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(body, now=NOW)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_format_can_be_forced_and_must_then_fit() -> None:
    assert detect(samples.postmark_complaint()) == "postmark"
    with pytest.raises(InvalidInput) as caught:
        parse(samples.postmark_complaint(), now=NOW, provider="sendgrid")
    assert "array of events" in str(caught.value)


def test_the_webhook_token_depends_on_the_secret_and_is_checked_exactly() -> None:
    token = webhook_token("secret one")
    assert token == webhook_token("secret one") != webhook_token("secret two")
    assert len(token) == 32
    assert token_matches("secret one", token)
    assert not token_matches("secret one", token[:-1] + ("A" if token[-1] != "A" else "B"))
