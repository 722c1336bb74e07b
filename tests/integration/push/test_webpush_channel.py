"""Browser push end to end: a local push service verifies VAPID and decrypts what it receives."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.channels import devices
from lealta.channels.base import Delivery
from lealta.channels.dispatcher import dispatch_due
from lealta.channels.webpush import WebPushChannel
from lealta.channels.webpush_crypto import MAX_PLAINTEXT, VapidKeys
from lealta.errors import PermanentChannelError, TransientChannelError
from lealta.identity.service import resolve
from tests.factories import outbox
from tests.factories.tracked import owner
from tests.integration.conftest import Api
from tests.integration.push.conftest import SUBJECT, Push
from tests.integration.push.fake_webpush import Browser, PushService

PROMO = {
    "title": "20 % off today",
    "body": "Ana, your basket misses you",
    "icon": "https://shop.example/icon.png",
    "url": "https://mail.shop.example/l/c/abc",
    "data": {"campaign": "spring"},
    "ttl": 3600,
    "urgency": "high",
}


def _subscribe(push: Push, service: PushService, contact_id: str, via: WebPushChannel) -> Browser:
    """A browser subscribing with the channel's VAPID key, registered for ``contact_id``."""
    browser = service.subscribe(via.keys.public_b64)
    with push.services.uow.transaction() as session:
        devices.register(
            session,
            contact_id=contact_id,
            kind="webpush",
            subscription=browser.subscription(),
            now=push.clock.now(),
        )
    return browser


def _delivery(contact_id: str, key: str = "promo:1", **content: object) -> Delivery:
    return Delivery(
        outbox_id=7,
        idempotency_key=key,
        contact_id=contact_id,
        channel="web_push",
        template="promo",
        content={**PROMO, **content},
    )


def test_a_dispatched_message_reaches_the_browser_encrypted_and_signed(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana", "web_push")
    browser = _subscribe(push, push_service, ana, webpush)
    push.enqueue("promo:ana", ana, "web_push", PROMO)
    report = push.dispatch(webpush)
    assert (report.sent, push_service.problems) == (1, [])
    row = push.row("promo:ana")
    assert row.status == "sent"
    [received] = push_service.received
    assert received.payload == {
        "title": PROMO["title"],
        "body": PROMO["body"],
        "icon": PROMO["icon"],
        "url": PROMO["url"],
        "tag": f"lealta-{row.id}",
        "data": {"campaign": "spring", "outbox_id": row.id},
    }
    assert push_service.to(browser) == [received.payload]
    assert received.headers["ttl"] == "3600"
    assert received.headers["urgency"] == "high"
    assert len(received.headers["topic"]) == 32
    assert received.claims["aud"] == push_service.origin
    assert received.claims["sub"] == SUBJECT
    expires = dt.datetime.fromtimestamp(received.claims["exp"], dt.UTC)
    assert push.clock.now() < expires <= push.clock.now() + dt.timedelta(hours=24)
    assert row.provider_id == received.message_id


def test_every_browser_of_the_person_gets_the_message(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    laptop, phone = (
        _subscribe(push, push_service, ana, webpush),
        _subscribe(push, push_service, ana, webpush),
    )
    provider = webpush.send(_delivery(ana))
    assert len(push_service.to(laptop)) == len(push_service.to(phone)) == 1
    ids = provider.split(" ")
    assert len(ids) == 2
    assert all(len(i) == 32 for i in ids)


def test_a_gone_subscription_is_pruned_and_the_message_fails_when_none_is_left(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    browser = _subscribe(push, push_service, ana, webpush)
    push_service.answer_next(browser, 410)
    with pytest.raises(PermanentChannelError, match="gone"):
        webpush.send(_delivery(ana))
    [device] = push.devices()
    assert device.invalid_at is not None
    asked = push_service.requests
    with pytest.raises(PermanentChannelError, match="no active browser push subscription"):
        webpush.send(_delivery(ana, key="promo:2"))
    assert push_service.requests == asked


def test_one_gone_browser_does_not_stop_the_others(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    old, new = (
        _subscribe(push, push_service, ana, webpush),
        _subscribe(push, push_service, ana, webpush),
    )
    push_service.answer_next(old, 404)
    webpush.send(_delivery(ana))
    assert push_service.to(new)
    assert not push_service.to(old)
    assert [d.invalid_at is not None for d in push.devices()] == [True, False]


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry-After": "120"}), (503, {})])
def test_a_busy_push_service_means_try_again_later(
    push: Push,
    push_service: PushService,
    webpush: WebPushChannel,
    status: int,
    headers: dict[str, str],
) -> None:
    ana = push.person("ana", "web_push")
    browser = _subscribe(push, push_service, ana, webpush)
    push_service.answer_next(browser, status, **headers)
    with pytest.raises(TransientChannelError, match=str(status)) as caught:
        webpush.send(_delivery(ana))
    if headers:
        assert "retry after 120 s" in str(caught.value)
    assert push.devices()[0].invalid_at is None
    webpush.send(_delivery(ana))
    assert len(push_service.to(browser)) == 1


def test_a_retried_message_goes_back_to_the_outbox(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana", "web_push")
    browser = _subscribe(push, push_service, ana, webpush)
    push_service.answer_next(browser, 500)
    push.enqueue("promo:ana", ana, "web_push", PROMO)
    assert push.dispatch(webpush).retrying == 1
    row = push.row("promo:ana")
    assert (row.status, row.attempts) == ("pending", 1)
    assert "500" in (row.error or "")


def test_the_same_message_is_not_pushed_twice_by_one_process(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    browser = _subscribe(push, push_service, ana, webpush)
    first = webpush.send(_delivery(ana))
    assert webpush.send(_delivery(ana)) == first
    assert len(push_service.to(browser)) == 1


def test_a_message_too_long_for_one_record_is_refused(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    _subscribe(push, push_service, ana, webpush)
    with pytest.raises(PermanentChannelError, match=f"at most {MAX_PLAINTEXT}"):
        webpush.send(_delivery(ana, body="x" * MAX_PLAINTEXT))
    assert push_service.requests == 0


def test_browsers_of_merged_profiles_are_reached(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    laptop = _subscribe(push, push_service, ana, webpush)
    with push.services.uow.transaction() as session:
        visitor = resolve(session, {"anonymous_id": "anon-9"}, push.clock.now()).id
    phone = _subscribe(push, push_service, visitor, webpush)
    with push.services.uow.transaction() as session:
        survivor = resolve(
            session, {"user_id": "ana", "anonymous_id": "anon-9"}, push.clock.now()
        ).id
    webpush.send(_delivery(survivor))
    assert len(push_service.to(laptop)) == len(push_service.to(phone)) == 1


def test_plain_http_endpoints_are_pruned_unless_allowed(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    strict = WebPushChannel(push.services.uow, webpush.keys, subject=SUBJECT, clock=push.clock)
    ana = push.person("ana")
    _subscribe(push, push_service, ana, webpush)
    try:
        with pytest.raises(PermanentChannelError, match="not https"):
            strict.send(_delivery(ana))
    finally:
        strict.close()
    assert push_service.requests == 0
    assert push.devices()[0].invalid_at is not None


def test_a_message_without_title_or_body_is_refused(
    push: Push, push_service: PushService, webpush: WebPushChannel
) -> None:
    ana = push.person("ana")
    _subscribe(push, push_service, ana, webpush)
    with pytest.raises(PermanentChannelError, match="neither a title nor a body"):
        webpush.send(_delivery(ana, title="", body=""))


def test_a_browser_registered_through_the_api_receives_what_the_dispatcher_sends(
    push_api: Api, push_service: PushService, vapid: VapidKeys
) -> None:
    key = push_api.client.get("/v1/push/vapid-public-key").json()["publicKey"]
    browser = push_service.subscribe(key)
    answer = push_api.client.post(
        "/v1/push/devices",
        auth=push_api.track_auth,
        json={
            "userId": "u-7",
            "kind": "webpush",
            "subscription": browser.subscription(),
            "consent": True,
        },
    )
    assert answer.status_code == 200, answer.text
    services = push_api.services
    channel = WebPushChannel(
        services.uow, vapid, subject=SUBJECT, clock=services.clock, allow_http=True
    )
    contact = owner(services.uow, "user_id", "u-7")  # made by the device's registration
    with services.uow.transaction() as session:
        outbox.message(
            session,
            contact,
            at=services.clock.now(),
            key="welcome:u-7",
            channel="web_push",
            payload={"title": "Welcome", "url": "https://shop.example/"},
        )
    try:
        report = dispatch_due(services, {channel.name: channel})
    finally:
        channel.close()
    assert (report.sent, push_service.problems) == (1, [])
    [payload] = push_service.to(browser)
    assert (payload["title"], payload["url"]) == ("Welcome", "https://shop.example/")
