"""Registering devices with the track key apps and browsers hold, and the browser-side files."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from lealta.channels.tables import PushDevice
from lealta.channels.webpush_crypto import VapidKeys
from lealta.contacts.consent import may_contact
from lealta.contacts.tables import Identifier
from tests.integration.conftest import Api
from tests.integration.push.fake_webpush import Browser

DEVICES = "/v1/push/devices"


def _browser(endpoint: str = "https://push.example/sub-1") -> Browser:
    return Browser(VapidKeys.generate().public_b64, endpoint=endpoint)


def _devices(api: Api) -> list[tuple[str, str, str]]:
    """(owner's identifier kind:value, kind, token) per device."""
    with api.services.uow.transaction() as session:
        rows = session.execute(
            select(Identifier.kind, Identifier.value, PushDevice.kind, PushDevice.token)
            .join(Identifier, Identifier.contact_id == PushDevice.contact_id)
            .order_by(PushDevice.id, Identifier.kind)
        )
        return [(f"{k}:{v}", kind, token) for k, v, kind, token in rows]


def test_a_browser_registers_its_subscription_with_the_track_key(push_api: Api) -> None:
    browser = _browser()
    answer = push_api.client.post(
        DEVICES,
        auth=push_api.track_auth,
        json={"anonymousId": "anon-1", "kind": "webpush", "subscription": browser.subscription()},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "kind": "webpush",
        "tokenHash": hashlib.sha256(browser.endpoint.encode()).hexdigest(),
    }
    assert _devices(push_api) == [("anonymous_id:anon-1", "webpush", browser.endpoint)]


def test_an_app_registers_its_token_with_the_write_key_in_the_body(push_api: Api) -> None:
    answer = push_api.client.post(
        DEVICES,
        json={
            "userId": "u-42",
            "kind": "fcm",
            "token": "fcm-token-1",
            "writeKey": push_api.track_key,
        },
    )
    assert answer.status_code == 200, answer.text
    again = push_api.client.post(
        DEVICES,
        headers=push_api.admin,
        json={"userId": "u-43", "kind": "fcm", "token": "fcm-token-1"},
    )
    assert again.status_code == 200, again.text
    assert _devices(push_api) == [("user_id:u-43", "fcm", "fcm-token-1")]


def test_consent_is_recorded_when_the_person_just_allowed_notifications(push_api: Api) -> None:
    for user, consent in (("u-yes", True), ("u-no", False)):
        answer = push_api.client.post(
            DEVICES,
            auth=push_api.track_auth,
            headers={"User-Agent": "TestBrowser/1"},
            json={
                "userId": user,
                "kind": "webpush",
                "subscription": _browser(f"https://push.example/{user}").subscription(),
                "consent": consent,
            },
        )
        assert answer.status_code == 200, answer.text
    with push_api.services.uow.transaction() as session:
        found = session.execute(select(Identifier.value, Identifier.contact_id))
        owners = {row.value: row.contact_id for row in found}
        assert may_contact(session, owners["u-yes"], "web_push")
        assert not may_contact(session, owners["u-no"], "web_push")
        assert not may_contact(session, owners["u-yes"], "push")


def test_registration_needs_a_key_and_says_which_field_is_wrong(push_api: Api) -> None:
    body = {"userId": "u-1", "kind": "fcm", "token": "t"}
    assert push_api.client.post(DEVICES, json=body).status_code == 401
    bad_key = push_api.client.post(DEVICES, auth=("not-a-key", ""), json=body)
    assert bad_key.status_code == 401
    nobody = push_api.client.post(
        DEVICES, auth=push_api.track_auth, json={"kind": "fcm", "token": "t"}
    )
    assert (nobody.status_code, nobody.json()["error"]["field"]) == (400, "userId")
    subscription = _browser().subscription()
    subscription["keys"] = {"p256dh": subscription["keys"]["p256dh"], "auth": "c2hvcnQ"}
    short = push_api.client.post(
        DEVICES,
        auth=push_api.track_auth,
        json={"userId": "u-1", "kind": "webpush", "subscription": subscription},
    )
    assert (short.status_code, short.json()["error"]["field"]) == (400, "subscription.keys.auth")
    unknown = push_api.client.post(
        DEVICES, auth=push_api.track_auth, json={"userId": "u-1", "kind": "sms", "token": "t"}
    )
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "kind")
    assert _devices(push_api) == []


def test_the_track_key_still_cannot_use_admin_endpoints(push_api: Api) -> None:
    basic = push_api.client.get("/v1/contacts", auth=push_api.track_auth)
    bearer = push_api.client.get(
        "/v1/contacts", headers={"Authorization": f"Bearer {push_api.track_key}"}
    )
    assert basic.status_code == 401
    assert bearer.status_code == 403
    assert push_api.client.get("/v1/contacts", headers=push_api.admin).status_code == 200


def test_a_device_is_forgotten_on_request(push_api: Api) -> None:
    browser = _browser()
    push_api.client.post(
        DEVICES,
        auth=push_api.track_auth,
        json={"userId": "u-1", "kind": "webpush", "subscription": browser.subscription()},
    )
    gone = push_api.client.request(
        "DELETE",
        DEVICES,
        auth=push_api.track_auth,
        json={"kind": "webpush", "subscription": browser.subscription()},
    )
    assert (gone.status_code, gone.json()) == (200, {"removed": True})
    again = push_api.client.request(
        "DELETE", DEVICES, auth=push_api.track_auth, json={"token": browser.endpoint}
    )
    assert again.json() == {"removed": False}
    assert push_api.client.request("DELETE", DEVICES, json={"token": "x"}).status_code == 401
    assert _devices(push_api) == []


def test_browsers_get_the_vapid_key_without_a_key(push_api: Api, vapid: VapidKeys) -> None:
    answer = push_api.client.get("/v1/push/vapid-public-key")
    assert answer.status_code == 200
    assert answer.json() == {"publicKey": vapid.public_b64}


def test_the_vapid_key_is_missing_when_web_push_is_not_configured(api: Api) -> None:
    answer = api.client.get("/v1/push/vapid-public-key")
    assert answer.status_code == 404
    assert "LEALTA_VAPID_PRIVATE_KEY" in answer.json()["error"]["message"]


def test_the_service_worker_and_the_helper_are_served_as_cacheable_scripts(push_api: Api) -> None:
    for path, marker in (("/sw.js", "showNotification"), ("/push.js", "lealtaPush")):
        answer = push_api.client.get(path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/javascript")
        assert marker in answer.text
        etag = answer.headers["etag"]
        cached = push_api.client.get(path, headers={"If-None-Match": etag})
        assert cached.status_code == 304
