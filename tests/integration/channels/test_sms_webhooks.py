"""What Twilio posts back: STOP/START replies and delivery reports, signed, through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from lealta import feedback
from lealta.channels.outbox import enqueue
from lealta.channels.sms import request_signature
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.contacts.consent import may_contact, record_consent
from lealta.contacts.tables import Consent
from lealta.events.tables import Event
from lealta.identity.service import resolve
from tests.integration.conftest import Api

TOKEN = "twilio-auth-token"
PHONE = "+34600123456"
INBOUND = "http://testserver/v1/sms/inbound"
STATUS = "http://testserver/v1/sms/status"


@pytest.fixture
def sms_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setattr(api.services.settings, "sms_auth_token", TOKEN)
    return api


def post(api: Api, url: str, form: dict[str, str], *, token: str = TOKEN, signed_url: str = ""):
    signature = request_signature(token, signed_url or url, form.items())
    return api.client.post(url, data=form, headers={"X-Twilio-Signature": signature})


def reply(body: str, sid: str = "SM0001", phone: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC123",
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "FromCountry": "ES",
    }


def person(api: Api, *, consent: str = "granted") -> str:
    now = dt.datetime.now(dt.UTC)
    with api.services.uow.transaction() as session:
        contact = resolve(session, {"phone": PHONE}, now)
        record_consent(session, contact.id, "sms", consent, source="test", at=now)
        return contact.id


def events(api: Api, contact_id: str, name: str) -> list[dict[str, object]]:
    with api.services.uow.transaction() as session:
        rows = session.scalars(
            select(Event.properties).where(Event.contact_id == contact_id, Event.name == name)
        )
        return [dict(p) for p in rows]


def consent_rows(api: Api, contact_id: str) -> int:
    with api.services.uow.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Consent).where(Consent.contact_id == contact_id)
            )
            or 0
        )


def state(api: Api, contact_id: str) -> tuple[bool, bool]:
    """(may we text them, is the number suppressed)."""
    with api.services.uow.transaction() as session:
        return (
            may_contact(session, contact_id, "sms"),
            feedback.is_suppressed(session, "sms", PHONE),
        )


def test_stop_withdraws_sms_consent_suppresses_the_number_and_records_an_event(
    sms_api: Api,
) -> None:
    contact = person(sms_api)
    assert state(sms_api, contact) == (True, False)

    answer = post(sms_api, INBOUND, reply(" Stop "))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert answer.text.endswith("<Response/>")
    assert state(sms_api, contact) == (False, True)
    (event,) = events(sms_api, contact, "SMS Opt-Out")
    assert event["phone"] == PHONE
    assert event["message_sid"] == "SM0001"


def test_a_repeated_stop_post_changes_nothing_twice(sms_api: Api) -> None:
    contact = person(sms_api)
    post(sms_api, INBOUND, reply("STOP"))
    rows = consent_rows(sms_api, contact)

    assert post(sms_api, INBOUND, reply("STOP")).status_code == 200

    assert consent_rows(sms_api, contact) == rows
    assert len(events(sms_api, contact, "SMS Opt-Out")) == 1


def test_start_after_stop_lifts_the_suppression_and_grants_consent_again(sms_api: Api) -> None:
    contact = person(sms_api)
    post(sms_api, INBOUND, reply("unsubscribe", sid="SM0001"))
    assert state(sms_api, contact) == (False, True)

    assert post(sms_api, INBOUND, reply("START", sid="SM0002")).status_code == 200

    assert state(sms_api, contact) == (True, False)
    assert len(events(sms_api, contact, "SMS Opt-In")) == 1


def test_other_replies_change_nothing(sms_api: Api) -> None:
    contact = person(sms_api)

    answer = post(sms_api, INBOUND, reply("Please stop by the shop tomorrow"))

    assert answer.status_code == 200
    assert state(sms_api, contact) == (True, False)
    assert events(sms_api, contact, "SMS Opt-Out") == []


def test_stop_from_a_number_nobody_has_still_suppresses_it(sms_api: Api) -> None:
    assert post(sms_api, INBOUND, reply("QUIT", phone="+34611222333")).status_code == 200

    with sms_api.services.uow.transaction() as session:
        assert feedback.is_suppressed(session, "sms", "+34611222333")


def test_a_wrong_or_missing_signature_is_refused_and_changes_nothing(sms_api: Api) -> None:
    contact = person(sms_api)

    forged = post(sms_api, INBOUND, reply("STOP"), token="guessed")
    bare = sms_api.client.post(INBOUND, data=reply("STOP"))
    other_url = post(sms_api, INBOUND, reply("STOP"), signed_url="http://testserver/v1/other")

    assert [forged.status_code, bare.status_code, other_url.status_code] == [403, 403, 403]
    assert forged.json()["error"]["code"] == "bad_signature"
    assert state(sms_api, contact) == (True, False)


def test_the_public_url_is_accepted_as_the_signed_address(
    sms_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_api.services.settings, "public_url", "https://crm.shop.example")
    contact = person(sms_api)

    answer = post(
        sms_api, INBOUND, reply("STOP"), signed_url="https://crm.shop.example/v1/sms/inbound"
    )

    assert answer.status_code == 200
    assert state(sms_api, contact) == (False, True)


def test_without_an_auth_token_the_endpoints_refuse_everything(api: Api) -> None:
    answer = post(api, INBOUND, reply("STOP"), token="")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "sms_not_configured"


def sent_sms(api: Api, contact_id: str, sid: str) -> int:
    now = dt.datetime.now(dt.UTC)
    with api.services.uow.transaction() as session:
        row = enqueue(
            session,
            key=f"k-{sid}",
            contact_id=contact_id,
            channel="sms",
            template="promo",
            not_before=now,
            now=now,
        )
        assert row is not None
        row.status, row.provider_id, row.sent_at = "sent", sid, now
        return row.id


def interactions(api: Api, outbox_id: int) -> list[tuple[str, dict[str, object]]]:
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(MessageInteraction.kind, MessageInteraction.details)
            .where(MessageInteraction.outbox_id == outbox_id)
            .order_by(MessageInteraction.id)
        )
        return [(kind, dict(details)) for kind, details in rows]


def report(sid: str, status: str, error: str = "") -> dict[str, str]:
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC123",
        "From": "+15005550006",
        "To": PHONE,
        "ApiVersion": "2010-04-01",
    }
    if error:
        form["ErrorCode"] = error
    return form


def test_a_delivered_report_is_recorded_once_against_the_message(sms_api: Api) -> None:
    contact = person(sms_api)
    outbox_id = sent_sms(sms_api, contact, "SMaaa")

    assert post(sms_api, STATUS, report("SMaaa", "sent")).status_code == 204
    assert interactions(sms_api, outbox_id) == []
    assert post(sms_api, STATUS, report("SMaaa", "delivered")).status_code == 204
    assert post(sms_api, STATUS, report("SMaaa", "delivered")).status_code == 204

    assert interactions(sms_api, outbox_id) == [("delivered", {"status": "delivered"})]
    assert len(events(sms_api, contact, "SMS Delivered")) == 1


def test_a_failed_report_is_a_bounce_and_an_unreachable_number_is_suppressed(
    sms_api: Api,
) -> None:
    contact = person(sms_api)
    soft = sent_sms(sms_api, contact, "SMbbb")
    hard = sent_sms(sms_api, contact, "SMccc")

    post(sms_api, STATUS, report("SMbbb", "undelivered", error="30003"))
    assert state(sms_api, contact) == (True, False)  # unreachable handset: maybe later
    post(sms_api, STATUS, report("SMccc", "failed", error="30006"))

    assert interactions(sms_api, soft) == [
        ("bounced", {"status": "undelivered", "error_code": "30003"})
    ]
    assert interactions(sms_api, hard) == [("bounced", {"status": "failed", "error_code": "30006"})]
    assert state(sms_api, contact) == (True, True)
    assert len(events(sms_api, contact, "SMS Bounced")) == 2


def test_a_report_for_an_unknown_message_or_with_a_bad_signature_records_nothing(
    sms_api: Api,
) -> None:
    contact = person(sms_api)
    outbox_id = sent_sms(sms_api, contact, "SMddd")

    assert post(sms_api, STATUS, report("SMzzz", "delivered")).status_code == 204
    forged = post(sms_api, STATUS, report("SMddd", "delivered"), token="guessed")

    assert forged.status_code == 403
    assert interactions(sms_api, outbox_id) == []
    with sms_api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(MessageInteraction)) == 0
        assert (
            session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == outbox_id))
            == "sent"
        )
