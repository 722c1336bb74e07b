"""The console through HTTP: sign-in, sessions, CSRF, roles, and the overview's figures."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lealta.keys.service import list_keys
from lealta.storage.base import utcnow
from lealta.users.service import create_user, disable_user, list_audit, reset_password
from tests.factories.tracked import identified
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"


def _user(api: Api, email: str, role: str) -> None:
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())


def _sign_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "/") -> int:
    form = client.get(f"/signin?next={next}")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = client.post(
        "/signin",
        data={"email": email, "password": password, "token": token[1], "next": next},
        follow_redirects=False,
    )
    return answer.status_code


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found[1]


def test_signed_out_pages_send_to_sign_in(api: Api) -> None:
    answer = api.client.get("/contacts?stage=Lead", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fcontacts%3Fstage%3DLead"
    page = api.client.get("/signin").text
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page
    assert ">Sign in</button>" in page


def test_signing_in_opens_the_page_asked_for(api: Api) -> None:
    _user(api, "ana@example.com", "marketer")
    assert _sign_in(api.client, "Ana@Example.com", next="/contacts") == 303
    page = api.client.get("/contacts")
    assert page.status_code == 200
    assert "ana@example.com · marketer" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    cookie = next(c for c in api.client.cookies.jar if c.name == "lealta_session")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_a_wrong_password_is_refused_and_repeated_failures_wait(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    for _ in range(5):
        assert _sign_in(api.client, "ana@example.com", "wrong password!") == 401
    assert _sign_in(api.client, "ana@example.com") == 429  # even the right one, for a while


def test_sign_in_needs_the_forms_token(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    answer = api.client.post(
        "/signin", data={"email": "ana@example.com", "password": PASSWORD, "token": "forged"}
    )
    assert answer.status_code == 403


def test_next_never_leads_to_another_site(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    form = api.client.get("/signin").text
    token = re.search(r'name="token" value="([^"]+)"', form)
    assert token
    answer = api.client.post(
        "/signin",
        data={
            "email": "ana@example.com",
            "password": PASSWORD,
            "token": token[1],
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_a_change_without_the_csrf_token_is_refused(api: Api) -> None:
    _user(api, "ana@example.com", "admin")
    _sign_in(api.client, "ana@example.com")
    assert api.client.post("/signout", data={"csrf": "forged"}).status_code == 403
    assert api.client.get("/", follow_redirects=False).status_code == 200  # still signed in
    token = _csrf(api.client.get("/").text)
    assert (
        api.client.post("/signout", data={"csrf": token}, follow_redirects=False).status_code == 303
    )
    assert api.client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("end", ["reset", "disable"])
def test_a_reset_or_disable_ends_open_sessions(api: Api, end: str) -> None:
    _user(api, "ana@example.com", "viewer")
    _sign_in(api.client, "ana@example.com")
    assert api.client.get("/", follow_redirects=False).status_code == 200
    with api.services.uow.transaction() as session:
        if end == "reset":
            reset_password(session, "ana@example.com", "another long password")
        else:
            disable_user(session, "ana@example.com", now=utcnow())
    assert api.client.get("/", follow_redirects=False).status_code == 303


def test_the_overview_shows_the_same_figures_as_the_api(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    for number in range(3):
        api.client.post(
            "/v1/identify",
            json={"userId": f"u{number}", "traits": {"email": f"p{number}@example.com"}},
            auth=api.track_auth,
        )
    api.client.post(
        "/v1/track",
        json={
            "userId": "u0",
            "event": "Order Completed",
            "properties": {"order_id": "A1", "total": 42.5},
        },
        auth=api.track_auth,
    )
    api.drain()
    figures = api.client.get("/v1/overview", headers=api.admin).json()
    assert figures["contacts"] == 3
    assert figures["windows"]["30"] == {"new_contacts": 3, "revenue": "42.50"}
    _sign_in(api.client, "ana@example.com")
    page = api.client.get("/").text
    assert re.search(r"Contacts</span><strong>3</strong>", page)
    assert "42.50" in page
    for stage in figures["stages"]:
        if stage["contacts"]:
            assert f'href="/contacts?stage={stage["stage"]}"' in page
    listed = api.client.get("/contacts?created_within=30").text
    assert listed.count("@example.com</td>") == 3


def test_a_contact_page_shows_the_person_and_their_timeline(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    api.client.post(
        "/v1/identify",
        json={"userId": "u9", "traits": {"email": "marta@example.com", "first_name": "Marta"}},
        auth=api.track_auth,
    )
    api.client.post(
        "/v1/track",
        json={
            "userId": "u9",
            "event": "Order Completed",
            "properties": {"order_id": "B7", "total": 19.9, "currency": "EUR"},
        },
        auth=api.track_auth,
    )
    api.drain()
    contact = api.client.get("/v1/contacts?email=marta@example.com", headers=api.admin).json()
    contact_id = contact["contacts"][0]["id"]
    _sign_in(api.client, "ana@example.com")
    listed = api.client.get("/contacts?q=marta").text
    assert f'href="/contacts/{contact_id}">Marta</a>' in listed
    page = api.client.get(f"/contacts/{contact_id}")
    assert page.status_code == 200
    assert "<h1>Marta</h1>" in page.text
    assert "Order Completed · 19.90 EUR" in page.text
    assert "Identified (" in page.text
    orders_only = api.client.get(f"/contacts/{contact_id}?kind=order").text
    assert "Order Completed · 19.90 EUR" in orders_only
    assert "Identified (" not in orders_only
    missing = api.client.get("/contacts/no-such-person")
    assert missing.status_code == 404
    assert "no-such-person" in missing.text


def _person(api: Api) -> str:
    return identified(api, "u5", email="lia@example.com")


def test_a_marketer_tags_a_contact_and_the_timeline_says_who(api: Api) -> None:
    _user(api, "ana@example.com", "marketer")
    contact_id = _person(api)
    _sign_in(api.client, "ana@example.com")
    token = _csrf(api.client.get(f"/contacts/{contact_id}").text)
    added = api.client.post(
        f"/contacts/{contact_id}/tags",
        data={"csrf": token, "action": "add", "tag": "vip"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert profile["tags"] == ["vip"]
    page = api.client.get(f"/contacts/{contact_id}").text
    assert 'Tag Added “vip” <span class="muted">by console:ana@example.com</span>' in page
    api.client.post(
        f"/contacts/{contact_id}/tags", data={"csrf": token, "action": "remove", "tag": "vip"}
    )
    page = api.client.get(f"/contacts/{contact_id}").text
    assert "Tag Removed “vip”" in page
    with api.services.uow.transaction() as session:
        actions = [entry.action for entry in list_audit(session)]
    assert actions[:2] == ["tag removed", "tag added"]


def test_a_viewer_cannot_tag_and_a_forged_post_is_refused(api: Api) -> None:
    _user(api, "vic@example.com", "viewer")
    _user(api, "ana@example.com", "marketer")
    contact_id = _person(api)
    _sign_in(api.client, "vic@example.com")
    page = api.client.get(f"/contacts/{contact_id}").text
    assert "Add a tag" not in page  # no form offered
    refused = api.client.post(
        f"/contacts/{contact_id}/tags", data={"csrf": _csrf(page), "tag": "vip"}
    )
    assert refused.status_code == 403
    assert "a viewer cannot do this" in refused.text
    api.client.cookies.clear()  # another person at the keyboard
    _sign_in(api.client, "ana@example.com")
    forged = api.client.post(f"/contacts/{contact_id}/tags", data={"csrf": "x", "tag": "vip"})
    assert forged.status_code == 403
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert profile["tags"] == []


def test_an_admin_creates_and_revokes_an_api_key_in_the_settings(api: Api) -> None:
    _user(api, "root@example.com", "admin")
    _sign_in(api.client, "root@example.com")
    page = api.client.get("/settings")
    assert page.status_code == 200
    assert "LEALTA_SMTP_HOST" in page.text  # e-mail is off until SMTP is set
    created = api.client.post(
        "/settings/keys", data={"csrf": _csrf(page.text), "name": "web shop", "scope": "track"}
    )
    key = re.search(r'<code class="key">([^<]+)</code>', created.text)
    assert key, created.text
    sent = api.client.post("/v1/track", json={"userId": "k1", "event": "Tried"}, auth=(key[1], ""))
    assert sent.status_code == 200
    assert key[1] not in api.client.get("/settings").text  # shown once
    key_id = key[1].split("_")[1]
    api.client.post(f"/settings/keys/{key_id}/revoke", data={"csrf": _csrf(page.text)})
    with api.services.uow.transaction() as session:
        revoked = next(k for k in list_keys(session) if k.key_id == key_id)
        assert revoked.revoked_at is not None
        actions = [entry.action for entry in list_audit(session)]
    assert actions[:2] == ["key revoked", "key created"]


def test_only_admins_open_the_settings(api: Api) -> None:
    _user(api, "ana@example.com", "marketer")
    _sign_in(api.client, "ana@example.com")
    assert ">Settings</a>" not in api.client.get("/").text
    assert api.client.get("/settings").status_code == 403
    page = api.client.get("/").text
    forged = api.client.post(
        "/settings/keys", data={"csrf": _csrf(page), "name": "x", "scope": "admin"}
    )
    assert forged.status_code == 403


def test_an_admin_exports_and_erases_with_a_typed_confirmation(api: Api) -> None:
    _user(api, "root@example.com", "admin")
    contact_id = _person(api)
    _sign_in(api.client, "root@example.com")
    page = api.client.get(f"/contacts/{contact_id}").text
    exported = api.client.get(f"/contacts/{contact_id}/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.json()["contact"]["id"] == contact_id
    unconfirmed = api.client.post(
        f"/contacts/{contact_id}/erase", data={"csrf": _csrf(page), "confirm": "erase"}
    )
    assert "Nothing was erased" in unconfirmed.text
    assert api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).status_code == 200
    erased = api.client.post(
        f"/contacts/{contact_id}/erase", data={"csrf": _csrf(page), "confirm": "ERASE"}
    )
    assert erased.status_code == 200
    assert "Identifiers removed" in erased.text
    assert api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).status_code == 410
    with api.services.uow.transaction() as session:
        actions = [entry.action for entry in list_audit(session)]
    assert actions[:2] == ["contact erased", "contact exported"]


def test_a_marketer_can_neither_export_nor_erase(api: Api) -> None:
    _user(api, "ana@example.com", "marketer")
    contact_id = _person(api)
    _sign_in(api.client, "ana@example.com")
    page = api.client.get(f"/contacts/{contact_id}").text
    assert "Erase this person" not in page
    assert api.client.get(f"/contacts/{contact_id}/export").status_code == 403
    refused = api.client.post(
        f"/contacts/{contact_id}/erase", data={"csrf": _csrf(page), "confirm": "ERASE"}
    )
    assert refused.status_code == 403
    assert api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).status_code == 200
