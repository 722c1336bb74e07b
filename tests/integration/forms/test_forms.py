"""Sign-up forms over HTTP, without a browser: defining, submitting, confirming (both DBs)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from lealta.contacts.consent import may_contact
from lealta.contacts.tables import Consent, Contact, ContactList, ListMembership
from lealta.events.tables import Event
from lealta.identity.service import find_contact
from lealta.tracking.tables import InboxMessage
from tests.integration.conftest import Api

THANKS = "https://shop.example/thanks?from=footer"


def _form(api: Api, slug: str = "news", **fields: Any) -> dict[str, Any]:
    body = {"slug": slug, "name": "Newsletter", "list": "newsletter", **fields}
    response = api.client.post("/v1/forms", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _post(api: Api, slug: str = "news", **data: str) -> Any:
    return api.client.post(
        f"/v1/forms/{slug}", data={"_key": api.track_key, **data}, follow_redirects=False
    )


def _membership(api: Api, email: str) -> ListMembership | None:
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", email)
        assert contact is not None, f"no contact for {email}"
        listed = session.scalars(select(ContactList).where(ContactList.slug == "newsletter")).one()
        return session.get(ListMembership, (listed.id, contact.id))


def _consents(api: Api, email: str) -> list[Consent]:
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", email)
        assert contact is not None
        return list(
            session.scalars(
                select(Consent).where(Consent.contact_id == contact.id).order_by(Consent.id)
            )
        )


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


# -- defining forms ----------------------------------------------------------------------------


def test_an_admin_defines_a_form_and_its_list_is_created_with_the_same_opt_in(api: Api) -> None:
    created = _form(api, double_opt_in=True, consent_channels=["email", "sms"])
    assert created["list"] == "newsletter"
    assert created["action"].endswith("/v1/forms/news")
    listed = api.client.get("/v1/forms", headers=api.admin).json()
    assert [f["slug"] for f in listed] == ["news"]
    assert listed[0]["consent_channels"] == ["email", "sms"]
    assert listed[0]["created_at"].endswith("Z")
    with api.services.uow.transaction() as session:
        newsletter = session.scalars(select(ContactList)).one()
        assert (newsletter.slug, newsletter.double_opt_in) == ("newsletter", True)


def test_defining_forms_needs_an_admin_key_and_valid_fields(api: Api) -> None:
    body = {"slug": "news"}
    assert api.client.post("/v1/forms", json=body).status_code == 401
    as_tracker = {"Authorization": f"Bearer {api.track_key}"}
    assert api.client.post("/v1/forms", json=body, headers=as_tracker).status_code == 403
    bad_slug = api.client.post("/v1/forms", json={"slug": "News Letter"}, headers=api.admin)
    assert bad_slug.status_code == 400
    assert bad_slug.json()["error"]["field"] == "slug"
    bad_url = {"slug": "news", "redirect_url": "javascript:alert(1)"}
    answer = api.client.post("/v1/forms", json=bad_url, headers=api.admin)
    assert answer.json()["error"]["field"] == "redirect_url"
    bad_channel = {"slug": "news", "consent_channels": ["fax"]}
    assert api.client.post("/v1/forms", json=bad_channel, headers=api.admin).status_code == 422
    _form(api)
    again = api.client.post("/v1/forms", json={"slug": "news"}, headers=api.admin)
    assert again.status_code == 409


def test_the_embed_code_is_escaped_and_refuses_admin_keys(api: Api) -> None:
    _form(api, name='<script>alert("x")</script>', consent_channels=["email"])
    embed = api.client.get("/v1/forms/news/embed", headers=api.admin, params={"key": api.track_key})
    assert embed.status_code == 200
    assert embed.headers["content-type"].startswith("text/html")
    assert "<script>" not in embed.text
    assert "&lt;script&gt;" in embed.text
    assert f'name="_key" value="{api.track_key}"' in embed.text
    assert 'name="consent_email"' in embed.text
    assert 'name="_hp"' in embed.text
    placeholder = api.client.get("/v1/forms/news/embed", headers=api.admin)
    assert "YOUR_WRITE_KEY" in placeholder.text
    leaked = api.client.get(
        "/v1/forms/news/embed", headers=api.admin, params={"key": api.admin_key}
    )
    assert leaked.status_code == 400
    assert leaked.json()["error"]["field"] == "key"
    assert api.client.get("/v1/forms/nope/embed", headers=api.admin).status_code == 404


# -- submissions -------------------------------------------------------------------------------


def test_a_plain_html_submission_subscribes_records_consent_and_redirects(api: Api) -> None:
    _form(api, consent_channels=["email", "sms"], redirect_url=THANKS)
    answer = _post(
        api,
        email="Ann@Example.com",
        first_name="Ann",
        last_name="Lee",
        favourite_colour="blue",
        password="hunter2",
        card_number="4111111111111111",
        consent_email="on",
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://shop.example/thanks?")
    assert _query(answer.headers["location"]) == {"from": ["footer"], "lealta": ["ok"]}
    membership = _membership(api, "ann@example.com")
    assert membership is not None
    assert (membership.status, membership.source) == ("subscribed", "form:news")
    (consent,) = _consents(api, "ann@example.com")  # sms was not ticked
    assert (consent.channel, consent.status, consent.source) == ("email", "granted", "form:news")
    assert consent.proof["form"] == "news"
    assert consent.proof["user_agent"] == "testclient"
    assert consent.proof["ip"]
    assert consent.proof["submitted_at"].endswith("Z")

    api.drain()
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", "ann@example.com")
        assert contact is not None
        attributes = contact.attributes
        names = set(session.scalars(select(Event.name).where(Event.contact_id == contact.id)))
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
    assert attributes["first_name"] == "Ann"
    assert attributes["favourite_colour"] == "blue"
    assert "password" not in attributes
    assert "card_number" not in attributes
    assert "Form Submitted" in names


def test_a_double_click_is_one_submission(api: Api) -> None:
    _form(api, consent_channels=["email"])
    for _ in range(2):
        assert _post(api, email="ann@example.com", consent_email="on").status_code == 200
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 2
    assert len(_consents(api, "ann@example.com")) == 1


def test_json_clients_get_the_status_and_errors_name_the_field(api: Api) -> None:
    _form(api, redirect_url=THANKS)
    ok = api.client.post(
        "/v1/forms/news",
        data={"_key": api.track_key, "email": "bob@example.com"},
        headers={"Accept": "application/json"},
    )
    assert ok.json() == {"ok": True, "status": "subscribed"}
    bad = api.client.post(
        "/v1/forms/news",
        data={"_key": api.track_key, "email": "not-an-address"},
        headers={"Accept": "application/json"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["field"] == "email"
    missing = api.client.post("/v1/forms/news", json={"_key": api.track_key, "first_name": "Bob"})
    assert missing.status_code == 400
    assert missing.json()["error"]["field"] == "email"
    browser = _post(api, email="not-an-address")
    assert browser.status_code == 303
    assert _query(browser.headers["location"]) == {
        "from": ["footer"],
        "lealta": ["error"],
        "field": ["email"],
    }


def test_without_a_redirect_url_the_browser_goes_back_to_the_referring_page(api: Api) -> None:
    _form(api)
    answer = api.client.post(
        "/v1/forms/news",
        data={"_key": api.track_key, "email": "cy@example.com"},
        headers={"Referer": "https://blog.example/post/1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://blog.example/post/1?lealta=ok"
    bare = _post(api, email="dee@example.com")  # no Referer, no redirect URL: a thank-you page
    assert bare.status_code == 200
    assert "Thank you" in bare.text


def test_a_phone_alone_is_enough_and_multipart_bodies_work(api: Api) -> None:
    _form(api)
    answer = api.client.post(
        "/v1/forms/news?key=" + api.track_key,
        files={"phone": (None, "600 123 456")},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    with api.services.uow.transaction() as session:
        assert find_contact(session, "phone", "+34600123456") is not None


def test_the_honeypot_answers_fine_but_stores_nothing(api: Api) -> None:
    _form(api, redirect_url=THANKS)
    answer = _post(api, email="bot@example.com", _hp="http://spam.example")
    assert answer.status_code == 303
    assert _query(answer.headers["location"])["lealta"] == ["ok"]
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 0


@pytest.mark.parametrize(
    ("slug", "key", "status"),
    [("news", "lk_nope_nope", 401), ("nope", None, 404), ("news", "", 401)],
)
def test_a_bad_key_or_unknown_form_is_refused(
    api: Api, slug: str, key: str | None, status: int
) -> None:
    _form(api)
    data = {"email": "ann@example.com", "_key": api.track_key if key is None else key}
    answer = api.client.post(f"/v1/forms/{slug}", data=data, follow_redirects=False)
    assert answer.status_code == status


def test_the_browser_cookie_links_the_sign_up_to_its_anonymous_history(api: Api) -> None:
    _form(api)
    page = {"type": "page", "anonymousId": "browser-1", "properties": {"path": "/pricing"}}
    sent = api.client.post("/v1/batch", json={"batch": [page]}, auth=api.track_auth)
    assert sent.status_code == 200
    api.drain()
    api.client.cookies.set("lealta_aid", "browser-1")
    assert _post(api, email="eve@example.com").status_code == 200
    api.client.cookies.clear()
    api.drain()
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", "eve@example.com")
        by_browser = find_contact(session, "anonymous_id", "browser-1")
        assert contact is not None
        assert by_browser is not None
        assert contact.id == by_browser.id
        kinds = set(session.scalars(select(Event.type).where(Event.contact_id == contact.id)))
    assert {"page", "identify", "track"} <= kinds


# -- double opt-in -----------------------------------------------------------------------------


def _token(api: Api) -> str:
    with api.services.uow.transaction() as session:
        payloads = [json.loads(p) for p in session.scalars(select(InboxMessage.payload))]
    tokens = [
        p["properties"]["confirmation_token"]
        for p in payloads
        if p.get("event") == "Form Submitted" and "confirmation_token" in p["properties"]
    ]
    assert len(tokens) == 1
    token: str = tokens[0]
    return token


def test_double_opt_in_stays_pending_until_the_link_is_followed(api: Api) -> None:
    _form(api, double_opt_in=True, consent_channels=["email"], redirect_url=THANKS)
    answer = api.client.post(
        "/v1/forms/news",
        data={"_key": api.track_key, "email": "fay@example.com", "consent_email": "on"},
        headers={"Accept": "application/json"},
    )
    assert answer.json() == {"ok": True, "status": "pending"}
    membership = _membership(api, "fay@example.com")
    assert membership is not None
    assert membership.status == "pending"
    assert [c.status for c in _consents(api, "fay@example.com")] == ["pending"]
    token = _token(api)

    confirmed = api.client.get(
        "/v1/forms/news/confirm", params={"token": token}, follow_redirects=False
    )
    assert confirmed.status_code == 303
    assert _query(confirmed.headers["location"])["lealta"] == ["confirmed"]
    membership = _membership(api, "fay@example.com")
    assert membership is not None
    assert membership.status == "subscribed"
    consents = _consents(api, "fay@example.com")
    assert [c.status for c in consents] == ["pending", "granted"]
    assert consents[1].proof["pending"] == consents[0].id
    with api.services.uow.transaction() as session:
        assert may_contact(session, consents[0].contact_id, "email")

    again = api.client.get(
        "/v1/forms/news/confirm", params={"token": token}, headers={"Accept": "application/json"}
    )
    assert again.json() == {"ok": True, "status": "subscribed"}
    assert len(_consents(api, "fay@example.com")) == 2
    api.drain()
    with api.services.uow.transaction() as session:
        names = list(session.scalars(select(Event.name).where(Event.type == "track")))
    assert names.count("Subscription Confirmed") == 1


def test_a_forged_or_foreign_token_confirms_nothing(api: Api) -> None:
    _form(api, double_opt_in=True, consent_channels=["email"])
    _form(api, slug="other", double_opt_in=True)
    _post(api, email="gus@example.com", consent_email="on")
    token = _token(api)
    contact_id, issued, signature = token.split(".")
    for bad in (f"{contact_id}.{int(issued) + 1}.{signature}", "garbage", token[:-2]):
        refused = api.client.get(
            "/v1/forms/news/confirm", params={"token": bad}, headers={"Accept": "application/json"}
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["field"] == "token"
    elsewhere = api.client.get("/v1/forms/other/confirm", params={"token": token})
    assert elsewhere.status_code == 400
    assert "not valid" in elsewhere.text
    membership = _membership(api, "gus@example.com")
    assert membership is not None
    assert membership.status == "pending"


def test_an_old_link_does_not_resubscribe_someone_who_left(api: Api) -> None:
    _form(api, double_opt_in=True)
    _post(api, email="hal@example.com")
    token = _token(api)
    with api.services.uow.transaction() as session:
        contact = find_contact(session, "email", "hal@example.com")
        assert contact is not None
        for row in session.scalars(select(ListMembership)):
            row.status = "unsubscribed"
    answer = api.client.get(
        "/v1/forms/news/confirm", params={"token": token}, headers={"Accept": "application/json"}
    )
    assert answer.json() == {"ok": True, "status": "unsubscribed"}
    assert _post(api, email="hal@example.com", note="back").status_code == 200
    membership = _membership(api, "hal@example.com")
    assert membership is not None
    assert membership.status == "pending"
