"""The contact page through HTTP (SQLite and PostgreSQL): a marketer changes consent, lists and
attributes through the same services as the API, each change on the timeline with who made
it; viewers and forged posts are refused; the timeline's kind filter holds across pages; the
messages section shows opens and clicks recorded through the public links."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from lealta.channels.outbox import enqueue
from lealta.links import Links
from lealta.storage.base import utcnow
from lealta.users.service import create_user, list_audit
from tests.factories.tracked import identified
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"
BY = "by console:ana@example.com"


def _user(api: Api, email: str, role: str) -> None:
    with api.services.uow.transaction() as session:
        create_user(session, email=email, role=role, password=PASSWORD, now=utcnow())


def _sign_in(client: TestClient, email: str) -> None:
    form = client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token, form.text
    answer = client.post(
        "/signin",
        data={"email": email, "password": PASSWORD, "token": token[1], "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found[1]


def _person(api: Api, email: str = "lia@example.com", user_id: str = "u5") -> str:
    return identified(api, user_id, email=email, first_name="Lia")


def _marketer(api: Api) -> tuple[str, str]:
    """A signed-in marketer, a contact, and the form token of the contact's page."""
    _user(api, "ana@example.com", "marketer")
    contact_id = _person(api)
    _sign_in(api.client, "ana@example.com")
    return contact_id, _csrf(api.client.get(f"/contacts/{contact_id}").text)


def _timeline(api: Api, contact_id: str, kind: str = "") -> str:
    page = api.client.get(f"/contacts/{contact_id}" + (f"?kind={kind}" if kind else "")).text
    start = page.index('id="timeline"')
    return page[start:]


def _actions(api: Api) -> list[str]:
    with api.services.uow.transaction() as session:
        return [entry.action for entry in list_audit(session)]


def test_a_marketer_grants_and_withdraws_consent_and_the_timeline_says_who(api: Api) -> None:
    contact_id, token = _marketer(api)
    granted = api.client.post(
        f"/contacts/{contact_id}/consent",
        data={"csrf": token, "channel": "email", "action": "grant"},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    assert granted.headers["location"].endswith("#consent")
    consent = api.client.get(f"/v1/contacts/{contact_id}/consent", headers=api.admin).json()
    assert consent["current"]["email"]["status"] == "granted"
    assert consent["current"]["email"]["source"] == "console"
    assert consent["current"]["email"]["proof"] == {"by": "console:ana@example.com"}
    api.client.post(
        f"/contacts/{contact_id}/consent",
        data={"csrf": token, "channel": "email", "action": "withdraw"},
    )
    consent = api.client.get(f"/v1/contacts/{contact_id}/consent", headers=api.admin).json()
    assert consent["current"]["email"]["status"] == "denied"
    timeline = _timeline(api, contact_id, "consent")
    assert f'Consent email granted (via console) <span class="muted">{BY}</span>' in timeline
    assert f'Consent email denied (via console) <span class="muted">{BY}</span>' in timeline
    assert _actions(api)[:2] == ["consent changed", "consent changed"]
    unknown = api.client.post(
        f"/contacts/{contact_id}/consent",
        data={"csrf": token, "channel": "fax", "action": "grant"},
    )
    assert unknown.status_code == 400
    assert "unknown channel &#39;fax&#39;" in unknown.text


def test_a_marketer_subscribes_and_unsubscribes_a_list_and_the_timeline_says_who(
    api: Api,
) -> None:
    contact_id, token = _marketer(api)
    for slug, double in (("news", False), ("vip-club", True)):
        made = api.client.post(
            "/v1/lists",
            json={"slug": slug, "name": slug.title(), "double_opt_in": double},
            headers=api.admin,
        )
        assert made.status_code == 201
    page = api.client.get(f"/contacts/{contact_id}").text
    assert '<option value="news">News</option>' in page
    assert "Vip-Club (pending until they confirm)" in page
    for slug in ("news", "vip-club"):
        joined = api.client.post(
            f"/contacts/{contact_id}/lists",
            data={"csrf": token, "list": slug, "action": "join"},
            follow_redirects=False,
        )
        assert joined.status_code == 303
    lists = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()["lists"]
    assert {m["slug"]: m["status"] for m in lists} == {"news": "subscribed", "vip-club": "pending"}
    api.client.post(
        f"/contacts/{contact_id}/lists", data={"csrf": token, "list": "news", "action": "leave"}
    )
    lists = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()["lists"]
    assert {m["slug"]: m["status"] for m in lists}["news"] == "unsubscribed"
    timeline = _timeline(api, contact_id, "list")
    assert f'List Joined “news” <span class="muted">{BY}</span>' in timeline
    assert f'List Confirmation Pending “vip-club” <span class="muted">{BY}</span>' in timeline
    assert f'List Left “news” <span class="muted">{BY}</span>' in timeline
    assert "Identified" not in timeline
    missing = api.client.post(
        f"/contacts/{contact_id}/lists", data={"csrf": token, "list": "nope", "action": "join"}
    )
    assert missing.status_code == 400
    assert "no list &#39;nope&#39;" in missing.text
    assert _actions(api)[:3] == ["list changed"] * 3


def test_a_marketer_sets_and_removes_a_typed_attribute_and_a_bad_value_is_explained(
    api: Api,
) -> None:
    contact_id, token = _marketer(api)
    declared = api.client.put("/v1/attributes/visits", json={"type": "integer"}, headers=api.admin)
    assert declared.status_code == 200
    set_ = api.client.post(
        f"/contacts/{contact_id}/attributes",
        data={"csrf": token, "name": "visits", "value": "42", "action": "set"},
        follow_redirects=False,
    )
    assert set_.status_code == 303
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert profile["attributes"]["visits"] == 42  # typed as declared, not the text "42"
    bad = api.client.post(
        f"/contacts/{contact_id}/attributes",
        data={"csrf": token, "name": "visits", "value": "lots", "action": "set"},
    )
    assert bad.status_code == 400
    assert "attribute &#39;visits&#39; must be a integer; got &#39;lots&#39;" in bad.text
    assert 'value="lots"' in bad.text  # what was typed stays in the form
    removed = api.client.post(
        f"/contacts/{contact_id}/attributes",
        data={"csrf": token, "name": "visits", "action": "remove"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert "visits" not in profile["attributes"]
    timeline = _timeline(api, contact_id)
    assert f'Attribute Changed visits = 42 <span class="muted">{BY}</span>' in timeline
    assert f'Attribute Changed visits removed <span class="muted">{BY}</span>' in timeline
    assert _actions(api)[:2] == ["attribute changed", "attribute changed"]


def test_a_viewer_and_a_forged_post_change_nothing(api: Api) -> None:
    _user(api, "vic@example.com", "viewer")
    _user(api, "ana@example.com", "marketer")
    api.client.post("/v1/lists", json={"slug": "news", "name": "News"}, headers=api.admin)
    contact_id = _person(api)
    _sign_in(api.client, "vic@example.com")
    page = api.client.get(f"/contacts/{contact_id}").text
    assert "Grant<span" not in page
    assert "Subscribe to" not in page
    posts = {
        "consent": {"channel": "email", "action": "grant"},
        "lists": {"list": "news", "action": "join"},
        "attributes": {"name": "city", "value": "Rome", "action": "set"},
    }
    for path, form in posts.items():
        refused = api.client.post(
            f"/contacts/{contact_id}/{path}", data={"csrf": _csrf(page), **form}
        )
        assert refused.status_code == 403, path
        assert "a viewer cannot do this" in refused.text
    api.client.cookies.clear()
    _sign_in(api.client, "ana@example.com")
    for path, form in posts.items():
        forged = api.client.post(f"/contacts/{contact_id}/{path}", data={"csrf": "x", **form})
        assert forged.status_code == 403, path
        without = api.client.post(f"/contacts/{contact_id}/{path}", data=form)
        assert without.status_code == 403, path
    profile = api.client.get(f"/v1/contacts/{contact_id}", headers=api.admin).json()
    assert profile["consent"] == {}
    assert profile["lists"] == []
    assert "city" not in profile["attributes"]


def test_the_kind_filter_keeps_pages_full_of_that_kind_only(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    contact_id = _person(api)
    now = api.services.clock.now()
    batch = [
        {
            "type": "track",
            "userId": "u5",
            "event": "Order Completed",
            "properties": {"order_id": f"K{i}", "total": 10 + i, "currency": "EUR"},
            "timestamp": (now - dt.timedelta(days=30 - i)).isoformat(),
        }
        for i in range(3)
    ] + [
        {
            "type": "track",
            "userId": "u5",
            "event": "Page Read",
            "timestamp": (now - dt.timedelta(days=5, minutes=i)).isoformat(),
        }
        for i in range(6)
    ]
    sent = api.client.post("/v1/batch", json={"batch": batch}, auth=api.track_auth)
    assert sent.status_code == 200, sent.text
    api.drain()
    url = f"/v1/contacts/{contact_id}/timeline?kind=order&limit=2"
    first = api.client.get(url, headers=api.admin).json()
    assert [e["kind"] for e in first["entries"]] == ["order", "order"]
    assert first["next_before"]
    second = api.client.get(f"{url}&before={first['next_before']}", headers=api.admin).json()
    assert [e["details"]["order_id"] for e in second["entries"]] == ["K0"]
    assert second["next_before"] is None
    everything = api.client.get(
        f"/v1/contacts/{contact_id}/timeline?limit=2", headers=api.admin
    ).json()
    assert "order" not in {e["kind"] for e in everything["entries"]}  # newer entries first
    bad = api.client.get(f"/v1/contacts/{contact_id}/timeline?kind=nope", headers=api.admin)
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "kind"
    _sign_in(api.client, "ana@example.com")
    orders = _timeline(api, contact_id, "order")
    assert orders.count("Order Completed ·") == 3
    assert "Page Read" not in orders


def test_the_messages_section_shows_an_open_and_a_click(api: Api) -> None:
    _user(api, "ana@example.com", "viewer")
    contact_id = _person(api)
    api.client.put(
        "/v1/templates/spring-sale",
        json={"channel": "email", "body": {"subject": "Spring sale", "html": "<p>Hi</p>"}},
        headers=api.admin,
    )
    with api.services.uow.transaction() as session:
        row = enqueue(
            session,
            key="test:spring",
            contact_id=contact_id,
            channel="email",
            template="spring-sale",
            payload={"workflow": "spring", "step": "mail"},
            not_before=api.services.clock.now(),
        )
        assert row is not None
        outbox_id = row.id
    settings = api.services.settings
    links = Links(settings.secret_key, settings.base_url)
    phone = {"user-agent": "Mozilla/5.0 (iPhone) Safari/604.1"}
    for url in (links.open_pixel(outbox_id), links.click(outbox_id, "https://shop.example/")):
        answer = api.client.get(urlsplit(url).path, headers=phone, follow_redirects=False)
        assert answer.status_code in (200, 302)
    _sign_in(api.client, "ana@example.com")
    page = api.client.get(f"/contacts/{contact_id}").text
    section = page[page.index('id="messages"') : page.index('id="workflows-heading"')]
    assert "Spring sale" in section
    assert "workflow spring" in section
    assert "opened (" in section
    assert "clicked (" in section
    messages = _timeline(api, contact_id, "message")
    assert "Email Opened" in messages
    assert "Email Clicked" in messages
    assert "spring-sale (email) → https://shop.example/" in messages
    assert "Identified" not in messages
