"""The push device registry on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from lealta.channels import devices
from lealta.channels.webpush_crypto import VapidKeys
from lealta.errors import InvalidInput
from tests.integration.push.conftest import Push
from tests.integration.push.fake_webpush import Browser


def _subscription(endpoint: str = "https://push.example/abc") -> dict[str, object]:
    browser = Browser(VapidKeys.generate().public_b64, endpoint=endpoint)
    return browser.subscription()


def test_registering_a_token_again_keeps_one_device_and_refreshes_it(push: Push) -> None:
    ana = push.person("ana")
    with push.services.uow.transaction() as session:
        first = devices.register(
            session, contact_id=ana, kind="fcm", token="tok-1", now=push.clock.now()
        )
        push.clock.advance(days=3)
        again = devices.register(
            session, contact_id=ana, kind="fcm", token="tok-1", now=push.clock.now()
        )
        assert again.id == first.id
    [row] = push.devices()
    assert row.token_hash == hashlib.sha256(b"tok-1").hexdigest()
    assert row.last_seen_at.replace(tzinfo=dt.UTC) == push.clock.now()
    assert row.created_at.replace(tzinfo=dt.UTC) == push.clock.now() - dt.timedelta(days=3)


def test_a_device_registered_by_someone_else_moves_to_them_and_comes_back_to_life(
    push: Push,
) -> None:
    ana, bo = push.person("ana"), push.person("bo")
    now = push.clock.now()
    with push.services.uow.transaction() as session:
        device = devices.register(session, contact_id=ana, kind="fcm", token="shared", now=now)
        assert devices.mark_invalid(session, device.token_hash, now)
        assert devices.active_for(session, [ana], "fcm") == {}
        devices.register(session, contact_id=bo, kind="fcm", token="shared", now=now)
        found = devices.active_for(session, [ana, bo], "fcm")
    assert list(found) == [bo]
    [row] = push.devices()
    assert (row.contact_id, row.invalid_at) == (bo, None)


def test_active_devices_are_found_for_many_contacts_at_once(push: Push) -> None:
    ana, bo, cy = push.person("ana"), push.person("bo"), push.person("cy")
    now = push.clock.now()
    with push.services.uow.transaction() as session:
        for contact, token in ((ana, "a1"), (ana, "a2"), (bo, "b1"), (cy, "c1")):
            devices.register(session, contact_id=contact, kind="fcm", token=token, now=now)
        devices.register(
            session, contact_id=ana, kind="webpush", subscription=_subscription(), now=now
        )
        devices.mark_invalid(session, devices.token_hash("b1"), now)
        found = devices.active_for(session, [ana, bo, cy], "fcm")
        browsers = devices.active_for(session, [ana, bo, cy], "webpush")
    assert {k: [d.token for d in v] for k, v in found.items()} == {ana: ["a1", "a2"], cy: ["c1"]}
    assert [d.token for d in browsers[ana]] == ["https://push.example/abc"]


def test_marking_a_device_invalid_happens_once(push: Push) -> None:
    ana = push.person("ana")
    now = push.clock.now()
    with push.services.uow.transaction() as session:
        device = devices.register(session, contact_id=ana, kind="fcm", token="t", now=now)
        assert devices.mark_invalid(session, device.token_hash, now) is True
        assert devices.mark_invalid(session, device.token_hash, now) is False
        assert devices.mark_invalid(session, devices.token_hash("unknown"), now) is False


def test_a_browser_is_known_by_its_endpoint_and_keeps_its_keys(push: Push) -> None:
    ana = push.person("ana")
    subscription = _subscription("https://push.example/xyz")
    with push.services.uow.transaction() as session:
        devices.register(
            session, contact_id=ana, kind="webpush", subscription=subscription, now=push.clock.now()
        )
    [row] = push.devices()
    assert row.token == "https://push.example/xyz"
    assert row.subscription == {"endpoint": row.token, "keys": subscription["keys"]}
    with push.services.uow.transaction() as session:
        assert devices.unregister(session, token="https://push.example/xyz") is True
        assert devices.unregister(session, token="https://push.example/xyz") is False
    assert push.devices() == []


@pytest.mark.parametrize(
    ("kind", "token", "subscription", "field"),
    [
        ("fcm", None, None, "token"),
        ("fcm", "has space", None, "token"),
        ("sms", "x", None, "kind"),
        ("webpush", None, None, "subscription"),
        ("webpush", None, {"endpoint": "ftp://x/y", "keys": {}}, "subscription.endpoint"),
        ("webpush", None, {"endpoint": "https://p.example/1"}, "subscription.keys"),
        (
            "webpush",
            None,
            {"endpoint": "https://p.example/1", "keys": {"p256dh": "BAAA", "auth": "AAAA"}},
            "subscription.keys.p256dh",
        ),
    ],
)
def test_bad_devices_are_refused_naming_the_field(
    push: Push, kind: str, token: str | None, subscription: dict[str, object] | None, field: str
) -> None:
    ana = push.person("ana")
    with push.services.uow.transaction() as session, pytest.raises(InvalidInput) as caught:
        devices.register(
            session,
            contact_id=ana,
            kind=kind,
            token=token,
            subscription=subscription,
            now=push.clock.now(),
        )
    assert caught.value.field == field


def test_a_subscription_with_a_short_auth_secret_is_refused(push: Push) -> None:
    subscription = _subscription()
    subscription["keys"] = {**subscription["keys"], "auth": "AAAA"}  # type: ignore[dict-item]
    with push.services.uow.transaction() as session, pytest.raises(InvalidInput) as caught:
        devices.register(
            session,
            contact_id=push.person("ana"),
            kind="webpush",
            subscription=subscription,
            now=push.clock.now(),
        )
    assert caught.value.field == "subscription.keys.auth"
