"""The fake channel behaves like a provider with idempotency keys."""

from __future__ import annotations

import pytest

from lealta.channels.base import Delivery
from lealta.channels.testing import RecordingChannel
from lealta.errors import PermanentChannelError, TransientChannelError


def delivery(key: str, template: str = "welcome") -> Delivery:
    return Delivery(
        outbox_id=1,
        idempotency_key=key,
        contact_id="c1",
        channel="email",
        template=template,
        payload={"x": 1},
        recipient={"email": "ana@example.com"},
    )


def test_a_repeated_key_is_answered_with_the_first_id_and_not_delivered_again() -> None:
    channel = RecordingChannel("email")
    first = channel.send(delivery("k1"))
    again = channel.send(delivery("k1"))
    other = channel.send(delivery("k2"))
    assert first == again == "email-1"
    assert other == "email-2"
    assert channel.keys() == ["k1", "k2"]
    assert channel.repeats == 1
    assert channel.calls == 3


def test_transient_failures_then_success() -> None:
    channel = RecordingChannel()
    channel.fail_transiently(2, "timeout")
    for _ in range(2):
        with pytest.raises(TransientChannelError, match="timeout"):
            channel.send(delivery("k1"))
    assert channel.send(delivery("k1")) == "email-1"
    assert channel.keys() == ["k1"]


def test_a_template_can_fail_permanently() -> None:
    channel = RecordingChannel("sms")
    channel.fail_permanently("promo", "invalid number")
    with pytest.raises(PermanentChannelError, match="invalid number"):
        channel.send(delivery("k1", template="promo"))
    assert channel.send(delivery("k2", template="welcome")) == "sms-1"
    assert [d.contact_id for d in channel.to("c1")] == ["c1"]
