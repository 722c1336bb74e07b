"""The SMS channel against a local fake Twilio that checks the protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lealta.channels.base import Delivery
from lealta.channels.sms import RecipientOptedOut, SmsChannel
from lealta.config import Settings
from lealta.errors import InvalidInput, PermanentChannelError, TransientChannelError
from tests.integration.channels.fake_twilio import SID, TOKEN, FakeTwilio, running

PHONE = "+34600123456"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with running() as fake:
        yield fake


def channel_for(fake: FakeTwilio, **options: Any) -> SmsChannel:
    settings = Settings(
        _env_file=None,
        sms_api_url=fake.url,
        sms_account_sid=SID,
        sms_auth_token=TOKEN,
        sms_sender="LealtaShop",
        public_url="https://crm.shop.example",
    )
    return SmsChannel.from_settings(settings, **options)


@pytest.fixture
def sms(twilio: FakeTwilio) -> Iterator[SmsChannel]:
    channel = channel_for(twilio)
    yield channel
    channel.close()


def delivery(key: str = "run-1:step-2", *, phone: str = PHONE, text: str = "Hola Ana") -> Delivery:
    return Delivery(
        outbox_id=1,
        idempotency_key=key,
        contact_id="c1",
        channel="sms",
        template="reminder",
        recipient={"phone": phone},
        content={"text": text},
    )


def test_a_message_is_posted_with_auth_form_fields_and_idempotency_token(
    twilio: FakeTwilio, sms: SmsChannel
) -> None:
    sid = sms.send(delivery())

    assert len(twilio.messages) == 1
    sent = twilio.messages[0]
    assert sid == sent.sid
    assert sid.startswith("SM")
    assert sent.form == {
        "To": PHONE,
        "From": "LealtaShop",
        "Body": "Hola Ana",
        "StatusCallback": "https://crm.shop.example/v1/sms/status",
    }
    assert sent.headers["i-twilio-idempotency-token"] == "run-1:step-2"
    assert sent.headers["user-agent"].startswith("Lealta/")


def test_the_same_idempotency_key_twice_sends_one_message_and_returns_the_same_sid(
    twilio: FakeTwilio, sms: SmsChannel
) -> None:
    first = sms.send(delivery("once"))
    again = sms.send(delivery("once"))
    other = sms.send(delivery("twice"))

    assert first == again
    assert other != first
    assert [m.form["Body"] for m in twilio.messages] == ["Hola Ana", "Hola Ana"]
    assert twilio.requests == 3


def test_unicode_text_goes_through_unchanged(twilio: FakeTwilio, sms: SmsChannel) -> None:
    sms.send(delivery(text="¡Gracias, Çağla! 🎉 -20% en tu próxima compra"))

    assert twilio.messages[0].form["Body"] == "¡Gracias, Çağla! 🎉 -20% en tu próxima compra"


def test_without_a_public_url_no_status_callback_is_requested(twilio: FakeTwilio) -> None:
    settings = Settings(
        _env_file=None,
        sms_api_url=twilio.url,
        sms_account_sid=SID,
        sms_auth_token=TOKEN,
        sms_sender="+15005550006",
    )
    channel = SmsChannel.from_settings(settings)
    try:
        channel.send(delivery())
    finally:
        channel.close()

    assert "StatusCallback" not in twilio.messages[0].form
    assert twilio.messages[0].form["From"] == "+15005550006"


def test_the_text_falls_back_to_the_payload(twilio: FakeTwilio, sms: SmsChannel) -> None:
    bare = Delivery(1, "k", "c1", "sms", "t", payload={"text": "Plain"}, recipient={"phone": PHONE})

    sms.send(bare)

    assert twilio.messages[0].form["Body"] == "Plain"


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_rate_limits_and_server_errors_are_transient(
    twilio: FakeTwilio, sms: SmsChannel, status: int, code: int
) -> None:
    twilio.fail_next(status, code, "Too Many Requests" if status == 429 else "Service down")

    with pytest.raises(TransientChannelError, match=f"{status}, error {code}"):
        sms.send(delivery())
    assert sms.send(delivery()).startswith("SM")  # the retry goes through


def test_wrong_credentials_are_transient_so_messages_wait_for_the_fix(twilio: FakeTwilio) -> None:
    channel = SmsChannel(
        api_url=twilio.url, account_sid=SID, auth_token="wrong", sender="LealtaShop"
    )
    try:
        with pytest.raises(TransientChannelError, match="401, error 20003"):
            channel.send(delivery())
    finally:
        channel.close()
    assert twilio.messages == []


def test_an_invalid_number_is_a_permanent_failure_naming_the_twilio_code(
    twilio: FakeTwilio, sms: SmsChannel
) -> None:
    with pytest.raises(PermanentChannelError, match="error 21211") as caught:
        sms.send(delivery(phone="600123"))

    assert not isinstance(caught.value, RecipientOptedOut)
    assert twilio.messages == []


def test_an_unsubscribed_recipient_is_permanent_and_asks_for_suppression(
    twilio: FakeTwilio, sms: SmsChannel
) -> None:
    twilio.unsubscribed.add(PHONE)

    with pytest.raises(RecipientOptedOut, match="21610") as caught:
        sms.send(delivery())

    assert isinstance(caught.value, PermanentChannelError)
    assert (caught.value.channel, caught.value.address, caught.value.reason) == (
        "sms",
        PHONE,
        "stop",
    )


def test_a_slow_provider_times_out_as_a_transient_error(twilio: FakeTwilio) -> None:
    twilio.delay = 1.0
    channel = channel_for(twilio, timeout=0.2)
    try:
        with pytest.raises(TransientChannelError, match="timed out"):
            channel.send(delivery())
    finally:
        channel.close()


def test_an_unreachable_provider_is_transient() -> None:
    with running() as fake:
        url = fake.url  # the port is closed once the block ends
    channel = SmsChannel(api_url=url, account_sid=SID, auth_token=TOKEN, sender="LealtaShop")
    try:
        with pytest.raises(TransientChannelError, match="unreachable"):
            channel.send(delivery())
    finally:
        channel.close()


def test_missing_phone_empty_text_and_overlong_text_fail_before_any_request(
    twilio: FakeTwilio, sms: SmsChannel
) -> None:
    with pytest.raises(PermanentChannelError, match="no phone"):
        sms.send(delivery(phone=""))
    with pytest.raises(PermanentChannelError, match="no text"):
        sms.send(delivery(text="  "))
    with pytest.raises(PermanentChannelError, match="11 GSM-7 segments"):
        sms.send(delivery(text="a" * 1531))
    with pytest.raises(PermanentChannelError, match="UCS-2"):
        sms.send(delivery(text="ç" * 700))

    assert twilio.requests == 0
    assert sms.send(delivery(text="a" * 1530))  # exactly 10 segments is allowed


def test_a_channel_without_credentials_or_sender_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        SmsChannel(api_url="http://127.0.0.1:1", account_sid="", auth_token="t", sender="x")
    assert caught.value.field == "sms_account_sid"
    with pytest.raises(InvalidInput) as caught:
        SmsChannel(api_url="http://127.0.0.1:1", account_sid="AC1", auth_token="t", sender="")
    assert caught.value.field == "sms_sender"
