"""``/v1/templates`` over HTTP (SQLite and PostgreSQL), and the shipped templates rendered for
what the shipped abandoned-cart workflow really enqueues."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lealta.automations.runner import advance_all
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.contacts.tables import Identifier
from lealta.messages import service
from lealta.messages.service import RenderRequest
from lealta.vouchers.codes import format_code
from lealta.vouchers.tables import Voucher
from tests.integration.conftest import Api

BODY = {
    "subject": "Hi {{ contact.first_name | default('there') }}",
    "html": "<p>{{ contact.first_name }} in {{ contact.city }}</p>",
    "variants": {"pt": {"subject": "Olá {{ contact.first_name }}"}},
}


def _person(api: Api, user: str, **traits: object) -> str:
    message = {"type": "identify", "userId": user, "traits": traits}
    assert api.client.post("/v1/identify", auth=api.track_auth, json=message).is_success
    api.drain()
    with api.services.uow.transaction() as session:
        owner = session.scalar(select(Identifier.contact_id).where(Identifier.value == user))
    assert owner is not None
    return owner


def test_templates_are_stored_read_listed_and_deleted(api: Api) -> None:
    put = api.client.put(
        "/v1/templates/hello",
        json={"channel": "email", "description": "Greeting", "body": BODY},
        headers=api.admin,
    )
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["warnings"]) == (1, [])
    again = api.client.put(
        "/v1/templates/hello",
        json={"channel": "email", "body": {**BODY, "text": "{{ rfm.segmnet }}"}},
        headers=api.admin,
    )
    assert again.json()["version"] == 2
    assert again.json()["warnings"][0]["part"] == "text"
    got = api.client.get("/v1/templates/hello", headers=api.admin).json()
    assert got["body"]["text"] == "{{ rfm.segmnet }}"
    listed = api.client.get("/v1/templates", headers=api.admin).json()["templates"]
    assert [(t["id"], t["channel"], t["version"]) for t in listed] == [("hello", "email", 2)]
    assert api.client.get("/v1/templates?channel=sms", headers=api.admin).json() == {
        "templates": []
    }
    assert api.client.delete("/v1/templates/hello", headers=api.admin).status_code == 204
    assert api.client.get("/v1/templates/hello", headers=api.admin).status_code == 404
    assert api.client.delete("/v1/templates/hello", headers=api.admin).status_code == 404


def test_invalid_templates_are_refused_with_every_problem_and_its_line(api: Api) -> None:
    body = {"subject": "Hi {{ contcat.name }}", "html": "<p>\n{% if x %}</p>"}
    answer = api.client.put(
        "/v1/templates/broken", json={"channel": "email", "body": body}, headers=api.admin
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["field"], error["line"]) == ("invalid_input", "subject", 1)
    assert [(p["part"], p["line"]) for p in error["problems"]] == [("subject", 1), ("html", 2)]
    assert api.client.get("/v1/templates/broken", headers=api.admin).status_code == 404
    checked = api.client.post(
        "/v1/templates/validate", json={"channel": "email", "body": body}, headers=api.admin
    ).json()
    assert checked["valid"] is False
    assert len(checked["problems"]) == 2
    fine = api.client.post(
        "/v1/templates/validate", json={"channel": "sms", "body": {"text": "ok"}}, headers=api.admin
    ).json()
    assert fine == {"valid": True, "problems": []}
    unknown = api.client.put(
        "/v1/templates/x", json={"channel": "fax", "body": {}}, headers=api.admin
    )
    assert unknown.status_code == 400


def test_previews_render_for_a_contact_nobody_or_an_unsaved_body(api: Api) -> None:
    api.client.put(
        "/v1/templates/hello", json={"channel": "email", "body": BODY}, headers=api.admin
    )
    ana = _person(api, "ana", first_name="Ana", language="pt-PT")
    preview = api.client.post(
        "/v1/templates/hello/preview", json={"contact_id": ana}, headers=api.admin
    )
    assert preview.status_code == 200, preview.text
    parts = preview.json()["parts"]
    assert parts["subject"] == "Olá Ana"
    assert parts["html"] == "<p>Ana in </p>"  # no city: left blank
    assert parts["text"] == "Ana in\n"
    nobody = api.client.post("/v1/templates/hello/preview", json={}, headers=api.admin).json()
    assert nobody["parts"]["subject"] == "Hi there"
    strict = api.client.post(
        "/v1/templates/hello/preview", json={"contact_id": ana, "strict": True}, headers=api.admin
    )
    assert strict.status_code == 400
    assert strict.json()["error"]["field"] == "html"
    draft = api.client.post(
        "/v1/templates/draft/preview",
        json={"channel": "sms", "body": {"text": "Hey {{ payload.x }}"}, "payload": {"x": 1}},
        headers=api.admin,
    ).json()
    assert draft == {"template_id": "draft", "channel": "sms", "parts": {"text": "Hey 1"}}
    missing = api.client.post(
        "/v1/templates/hello/preview", json={"contact_id": "nobody"}, headers=api.admin
    )
    assert missing.status_code == 404


def test_template_endpoints_need_an_admin_key(api: Api) -> None:
    assert api.client.get("/v1/templates").status_code == 401
    assert api.client.put("/v1/templates/x", json={}).status_code == 401


def test_the_shipped_cart_templates_show_what_the_workflow_enqueued(api: Api) -> None:
    start = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
    clock = FrozenClock(start)
    api.services.clock = clock
    created = api.client.post("/v1/automations/templates/abandoned-cart", headers=api.admin)
    assert created.status_code == 201, created.text
    assert created.json()["templates_installed"] == ["cart-reminder-1", "cart-reminder-2"]
    assert api.client.post("/v1/automations/abandoned-cart/enable", headers=api.admin).is_success
    _person(api, "dawdler", first_name="Rui")
    products = [
        {"name": "Sencha <green>", "price": 12.5, "quantity": 2, "url": "https://tea.example/s"},
        {"name": "Teapot", "price": 40},
    ]
    event = {
        "type": "track",
        "userId": "dawdler",
        "event": "Checkout Started",
        "timestamp": start.isoformat(),
        "properties": {"products": products, "currency": "EUR"},
    }
    assert api.client.post("/v1/track", auth=api.track_auth, json=event).is_success
    api.drain()
    advance_all(api.services)
    clock.advance(hours=1)
    advance_all(api.services)
    clock.advance(days=1)
    advance_all(api.services)
    with api.services.uow.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        code = session.scalars(select(Voucher.code)).one()
        requests = [RenderRequest(r.id, r.template, r.contact_id) for r in rows]
        results = service.render_many(session, api.services.settings, requests, now=clock.now())
    first, second = (results[r.id] for r in rows)
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["subject"] == "Rui, your cart is waiting"
    assert "Sencha &lt;green&gt;" in first["html"]  # escaped in HTML
    assert "\u00d7 2" in first["html"]  # quantity
    assert "€12.50" in first["html"]
    assert "/l/c/" in first["html"]  # the product link is tracked
    assert "Sencha <green>" in first["text"]
    assert second["subject"] == "10% off the cart you left"
    assert format_code(code) in second["html"]
    assert "(7 days left)" in second["html"]
    assert second["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
