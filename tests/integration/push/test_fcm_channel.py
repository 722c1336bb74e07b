"""Mobile push through a local FCM HTTP v1 that checks OAuth and the message shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from lealta.channels import devices
from lealta.channels.base import Delivery
from lealta.channels.fcm import FcmChannel
from lealta.config import Settings
from lealta.errors import PermanentChannelError, TransientChannelError
from tests.integration.push.conftest import Push
from tests.integration.push.fake_fcm import PROJECT, FakeFcm, error, fcm_error

OFFER = {
    "title": "Your voucher is waiting",
    "body": "10 € off until Sunday",
    "image": "https://shop.example/banner.png",
    "url": "https://mail.shop.example/l/c/xyz",
    "data": {"screen": "vouchers", "amount": 10, "tags": ["a", "b"]},
}


def _install(push: Push, contact_id: str, *tokens: str) -> None:
    with push.services.uow.transaction() as session:
        for token in tokens:
            devices.register(
                session, contact_id=contact_id, kind="fcm", token=token, now=push.clock.now()
            )


def _delivery(contact_id: str, key: str = "offer:1", **content: object) -> Delivery:
    return Delivery(
        outbox_id=11,
        idempotency_key=key,
        contact_id=contact_id,
        channel="push",
        template="offer",
        content={**OFFER, **content},
    )


def test_a_dispatched_message_reaches_each_app_install(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana", "push")
    _install(push, ana, "phone-token", "tablet-token")
    push.enqueue("offer:ana", ana, "push", OFFER)
    assert push.dispatch(fcm_channel).sent == 1
    assert fcm.problems == []
    row = push.row("offer:ana")
    assert [m["token"] for m in fcm.sent] == ["phone-token", "tablet-token"]
    message = fcm.sent[0]
    assert message["notification"] == {
        "title": OFFER["title"],
        "body": OFFER["body"],
        "image": OFFER["image"],
    }
    assert message["data"] == {
        "screen": "vouchers",
        "amount": "10",
        "tags": '["a","b"]',
        "outbox_id": str(row.id),
        "url": OFFER["url"],
        "tag": f"lealta-{row.id}",
    }
    assert message["android"]["priority"] == "NORMAL"
    assert message["android"]["ttl"] == "86400s"
    assert message["apns"]["headers"]["apns-priority"] == "5"
    ids = str(row.provider_id).split(" ")
    assert len(ids) == 2
    assert all(i.startswith("0:") for i in ids)
    assert len(fcm.issued) == 1


def test_the_access_token_is_reused_until_it_nearly_expires(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    fcm.expires_in = 120
    ana = push.person("ana")
    _install(push, ana, "t1")
    fcm_channel.send(_delivery(ana, key="a"))
    push.clock.advance(seconds=50)
    fcm_channel.send(_delivery(ana, key="b"))
    assert len(fcm.issued) == 1
    push.clock.advance(seconds=20)  # within a minute of expiry: a fresh token first
    fcm_channel.send(_delivery(ana, key="c"))
    assert len(fcm.issued) == 2
    assert len(fcm.sent) == 3


def test_an_unregistered_token_is_pruned_and_the_other_devices_still_get_it(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana")
    _install(push, ana, "old-phone", "new-phone")
    fcm.unregistered.add("old-phone")
    fcm_channel.send(_delivery(ana))
    assert [m["token"] for m in fcm.sent] == ["new-phone"]
    assert [(d.token, d.invalid_at is not None) for d in push.devices()] == [
        ("old-phone", True),
        ("new-phone", False),
    ]


def test_a_malformed_token_is_pruned_and_with_no_device_left_the_message_fails(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana", "push")
    _install(push, ana, "garbled")
    fcm.malformed.add("garbled")
    push.enqueue("offer:ana", ana, "push", OFFER)
    assert push.dispatch(fcm_channel).failed == 1
    row = push.row("offer:ana")
    assert row.status == "failed"
    assert "gone" in (row.error or "")
    assert "message.token" not in (row.error or "") or "INVALID_ARGUMENT" in (row.error or "")
    assert push.devices()[0].invalid_at is not None


def test_a_rejected_message_fails_without_pruning_the_device(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana")
    _install(push, ana, "fine-token")
    violation = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "message.data[0].value", "description": "too big"}],
    }
    fcm.fail_next(400, error(400, "INVALID_ARGUMENT", "Message too big", violation))
    with pytest.raises(PermanentChannelError, match="Message too big"):
        fcm_channel.send(_delivery(ana))
    assert push.devices()[0].invalid_at is None


def test_a_revoked_access_token_is_replaced_once(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana")
    _install(push, ana, "t1")
    fcm_channel.send(_delivery(ana, key="a"))
    fcm.revoked.add(fcm.issued[0])
    fcm_channel.send(_delivery(ana, key="b"))
    assert len(fcm.issued) == 2
    assert len(fcm.sent) == 2


def test_unauthorised_even_with_a_fresh_token_means_try_again_later(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana")
    _install(push, ana, "t1")
    body = error(
        401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", fcm_error("THIRD_PARTY_AUTH_ERROR")
    )
    fcm.fail_next(401, body)
    fcm.fail_next(401, body)
    with pytest.raises(TransientChannelError, match="401"):
        fcm_channel.send(_delivery(ana))
    assert len(fcm.issued) == 2
    assert push.devices()[0].invalid_at is None


def test_quota_and_outages_are_retried_later_with_the_advised_delay(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    ana = push.person("ana")
    _install(push, ana, "t1")
    fcm.fail_next(
        429,
        error(429, "RESOURCE_EXHAUSTED", "quota", fcm_error("QUOTA_EXCEEDED")),
        **{"Retry-After": "30"},
    )
    with pytest.raises(TransientChannelError, match=r"retry after 30 s"):
        fcm_channel.send(_delivery(ana))
    fcm.fail_next(503, error(503, "UNAVAILABLE", "try later", fcm_error("UNAVAILABLE")))
    with pytest.raises(TransientChannelError, match="503"):
        fcm_channel.send(_delivery(ana))
    fcm_channel.send(_delivery(ana))
    assert len(fcm.sent) == 1


def test_a_service_account_the_token_endpoint_refuses_holds_messages_back(
    push: Push, fcm: FakeFcm, tmp_path: Path
) -> None:
    path = fcm.service_account(tmp_path)
    wrong_issuer = path.read_text().replace("lealta@", "someone-else@")
    path.write_text(wrong_issuer)
    settings = Settings(
        _env_file=None,
        fcm_api_url=fcm.url,
        fcm_token_url=fcm.token_url,
        fcm_credentials_file=str(path),
    )
    channel = FcmChannel.from_settings(settings, push.services.uow, push.clock)
    ana = push.person("ana")
    _install(push, ana, "t1")
    try:
        with pytest.raises(TransientChannelError, match="token endpoint answered 400"):
            channel.send(_delivery(ana))
    finally:
        channel.close()
    assert fcm.sent == []
    assert "bad assertion" in fcm.problems[0]


def test_a_person_without_an_app_gets_a_permanent_failure(
    push: Push, fcm: FakeFcm, fcm_channel: FcmChannel
) -> None:
    with pytest.raises(PermanentChannelError, match="no active app push device"):
        fcm_channel.send(_delivery(push.person("bo")))
    assert fcm.issued == []


def test_the_messages_go_to_the_configured_project(fcm_channel: FcmChannel) -> None:
    assert fcm_channel.send_url.endswith(f"/v1/projects/{PROJECT}/messages:send")
