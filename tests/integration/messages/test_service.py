"""Templates stored, versioned and rendered for real contacts (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lealta.contacts.tables import Contact
from lealta.errors import NotFound
from lealta.links import Links
from lealta.messages import service
from lealta.messages.problems import RenderError, TemplateInvalid
from lealta.messages.service import RenderRequest
from lealta.prediction.tables import ContactPrediction
from tests.integration.messages.conftest import NOW, Shop

PROFILE = {
    "subject": "{{ contact.first_name | default('Hi') }}, {{ rfm.segment }}",
    "html": "<html><body><p>{{ contact.name }} {{ contact.email }} {{ contact.city }} "
    "{{ contact.tags | join(',') }} {{ contact.stage | default('none') }}</p>"
    "<ol>{% for p in purchases %}<li>{{ p.id }} {{ p.amount | money(p.currency) }} "
    "{{ p.categories | join('+') }}</li>{% endfor %}</ol>"
    "<p>last {{ last_order.id }}: {{ last_order.items[0].name }}</p>"
    "<p>code {{ voucher.display }} {{ voucher.value | number }}% until "
    "{{ voucher.expires_at | date('iso') }}; open {{ vouchers | length }}</p>"
    '<p>{{ shop.name }} <a href="https://tea.example/new?src=mail">New teas</a> '
    '<a href="{{ links.unsubscribe }}">Unsubscribe</a> '
    '<a href="{{ links.preferences }}">Preferences</a> '
    '<a href="{{ links.survey(9) }}">9</a> {{ payload.note }}</p></body></html>',
    "variants": {"pt": {"subject": "Olá {{ contact.first_name }}"}},
}


def save(shop: Shop, template_id: str, body: dict[str, Any], channel: str = "email") -> None:
    with shop.uow.transaction() as session:
        service.save(session, template_id, channel, body, "test", now=NOW)


def ana(shop: Shop, **extra: Any) -> str:
    contact = shop.person(
        "ana@example.com", tags=("vip", "tea"), first_name="Ana", last_name="Silva",
        city="Lisbon", **extra,
    )  # fmt: skip
    shop.orders(contact, 7)
    shop.rfm(contact, "Champions")
    return contact


def test_saving_validates_and_bumps_the_version_only_on_change(shop: Shop) -> None:
    with shop.uow.transaction() as session:
        first = service.save(session, "hello", "email", {"subject": "Hi", "text": "x"}, now=NOW)
        same = service.save(session, "hello", "email", {"subject": "Hi", "text": "x"}, now=NOW)
        other = service.save(
            session, "hello", "email", {"subject": "Hi {{ rfm.segmnet }}", "text": "x"}, now=NOW
        )
        assert (first.created, same.changed, other.changed) == (True, False, True)
        assert other.template.version == 2
        assert [w.line for w in other.warnings] == [1]
        with pytest.raises(TemplateInvalid) as caught:
            service.save(session, "hello", "email", {"subject": "Hi", "text": "\n{{ nme }}"})
        assert (caught.value.field, caught.value.line) == ("text", 2)
        service.save(session, "sms-1", "sms", {"text": "t"}, now=NOW)
        assert [t.id for t in service.list_(session)] == ["hello", "sms-1"]
        assert [t.id for t in service.list_(session, channel="sms")] == ["sms-1"]
    with shop.uow.transaction() as session:
        stored = service.get(session, "hello")
        assert (stored.version, stored.body["subject"]) == (2, "Hi {{ rfm.segmnet }}")
        service.delete(session, "hello")
        with pytest.raises(NotFound):
            service.get(session, "hello")
        with pytest.raises(NotFound):
            service.delete(session, "hello")


def test_a_preview_shows_the_contacts_data_and_leaves_links_alone(shop: Shop) -> None:
    save(shop, "profile", PROFILE)
    contact = ana(shop)
    code = shop.voucher(contact)
    with shop.uow.transaction() as session:
        parts = service.render_for(
            session,
            shop.settings,
            template_id="profile",
            contact_id=contact,
            payload={"voucher": code, "note": "{{ contact.first_name | upper }}!"},
            now=NOW,
        )
    assert parts["subject"] == "Ana, Champions"
    html = parts["html"]
    assert "Ana Silva ana@example.com Lisbon tea,vip none" in html
    ids = re.findall(r"<li>(O-\d+) ", html)
    assert ids == ["O-7", "O-6", "O-5", "O-4", "O-3"]  # the last five, newest first
    assert "<li>O-7 €70.50 tea+kitchen</li>" in html
    assert "last O-7: Tea 7" in html
    assert f"code {code[:4]}-" in html
    assert "20% until 2025-07-02; open 1" in html
    assert "Tea Shop" in html
    assert 'href="https://tea.example/new?src=mail"' in html  # not rewritten in a preview
    preferences = re.search(r'href="([^"]+)">Preferences', html)
    unsubscribe = re.search(r'href="([^"]+)">Unsubscribe', html)
    assert preferences is not None
    assert unsubscribe is not None
    assert unsubscribe.group(1) == preferences.group(1)
    claims = Links("test-secret", "https://mail.tea.example").read(
        unescape(preferences.group(1)).rsplit("/", 1)[1], "prefs"
    )
    assert claims.contact_id == contact
    assert "ANA!" in html
    assert "headers" not in parts
    assert parts["text"].startswith("Ana Silva ana@example.com")


def test_the_contacts_language_chooses_the_variant(shop: Shop) -> None:
    save(shop, "profile", PROFILE)
    contact = ana(shop, language="pt-BR")
    with shop.uow.transaction() as session:
        parts = service.render_for(
            session, shop.settings, template_id="profile", contact_id=contact, now=NOW
        )
        forced = service.render_for(
            session, shop.settings, template_id="profile", contact_id=contact, language="en"
        )
    assert parts["subject"] == "Olá Ana"
    assert "R$" not in parts["html"]
    assert "€ 70,50" in parts["html"]  # Brazilian number format, the order's currency
    assert forced["subject"] == "Ana, Champions"


def test_a_message_for_the_outbox_is_tracked_and_unsubscribable(shop: Shop) -> None:
    save(shop, "profile", PROFILE)
    contact = ana(shop)
    outbox_id = shop.outbox("k1", contact, "profile", {"note": "from the outbox"})
    with shop.uow.transaction() as session:
        parts = service.render_for(
            session,
            shop.settings,
            template_id="profile",
            contact_id=contact,
            outbox_id=outbox_id,
            now=NOW,
        )
    links = Links("test-secret", "https://mail.tea.example")
    html = parts["html"]
    assert "from the outbox" in html  # the outbox row's payload
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]
    click = links.read(hrefs[0].split("/l/c/")[1], "click")
    assert click.outbox_id == outbox_id
    target = urlsplit(click.url or "")
    assert (target.netloc, target.path) == ("tea.example", "/new")
    assert parse_qs(target.query) == {
        "src": ["mail"],
        "utm_source": ["lealta"],
        "utm_medium": ["email"],
        "utm_campaign": ["profile"],
    }
    assert links.read(hrefs[1].split("/l/u/")[1], "unsub").outbox_id == outbox_id
    assert links.read(hrefs[2].split("/l/p/")[1], "prefs").contact_id == contact
    survey = links.read(hrefs[3].split("/l/s/")[1], "survey")
    assert (survey.outbox_id, survey.score, survey.survey) == (outbox_id, 9, "nps")
    pixel = re.search(r'<img src="([^"]+)"[^>]*/></body>', html)
    assert pixel is not None
    assert links.read(pixel.group(1).split("/l/o/")[1], "open").outbox_id == outbox_id
    assert parts["headers"] == {
        "List-Unsubscribe": f"<{hrefs[1]}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_a_batch_renders_in_a_fixed_number_of_queries(shop: Shop, statements: list[str]) -> None:
    save(shop, "profile", PROFILE)
    people = [shop.person(f"p{i}@example.com", first_name=f"P{i}") for i in range(30)]
    for person in people[:10]:
        shop.orders(person, 2, prefix=person[:8])
        shop.rfm(person, "Loyal")
    code = shop.voucher(people[0])
    requests = [
        RenderRequest(
            outbox_id=index + 1,
            template_id="profile",
            contact_id=person,
            payload={"saved": {"voucher": code}, "trigger": {"event": "X", "properties": {}}},
        )
        for index, person in enumerate(people)
    ]

    def count(items: list[RenderRequest]) -> int:
        statements.clear()
        with shop.uow.transaction() as session:
            results = service.render_many(session, shop.settings, items, now=NOW)
        assert all(isinstance(r, dict) for r in results.values()), results
        return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    few, many = count(requests[:3]), count(requests)
    assert few == many
    assert many <= 11  # a fixed number per batch (contacts, RFM, vouchers …)
    # next-best items and predictions are read only for templates that use them: one query each
    uses = {
        "subject": "{{ contact.prediction.churn_band if contact.prediction }}",
        "text": "{{ contact.next_best | length }} {{ contact.prediction }}",
    }
    save(shop, "value", uses)
    save(shop, "plain", {"subject": "{{ contact.first_name }}", "text": "Hello"})
    predict(shop, people[1], churn_band="high")
    valued = [replace(r, template_id="value") for r in requests]
    plain = count([replace(r, template_id="plain") for r in requests])
    assert count(valued[:3]) == count(valued) == plain + 2
    # what no template of the batch reads is not queried: purchases, vouchers, RFM, loyalty
    assert plain <= many - 3
    with shop.uow.transaction() as session:
        shown = service.render_many(session, shop.settings, valued[:3], now=NOW)
    assert [r["subject"] for r in shown.values() if isinstance(r, dict)] == ["", "high", ""]
    with shop.uow.transaction() as session:
        results = service.render_many(session, shop.settings, requests, now=NOW)
    first = results[1]
    assert isinstance(first, dict)
    assert first["subject"] == "P0, Loyal"
    assert f"code {code[:4]}-" in first["html"]
    last = results[30]
    assert isinstance(last, dict)
    assert last["subject"] == "P29, "  # no RFM yet: the segment is simply empty


def predict(shop: Shop, contact_id: str, churn_band: str) -> None:
    """A saved prediction for ``contact_id`` (as a ``clv`` run writes it)."""
    with shop.uow.transaction() as session:
        session.add(
            ContactPrediction(
                contact_id=contact_id, p_alive=0.2, expected_purchases=0.5, expected_spend=40.0,
                clv=20.0, churn_band=churn_band, horizon_days=90, params_version="v",
                computed_at=NOW,
            )
        )  # fmt: skip


def test_a_batch_reports_what_cannot_be_rendered_per_message(shop: Shop) -> None:
    save(shop, "fine", {"subject": "Hi {{ contact.first_name }}", "text": "ok{{ payload.who }}"})
    save(shop, "divides", {"subject": "Hi", "text": "{{ 1 / contact.zero }}"})
    alive = shop.person("a@example.com", first_name="A", zero=0)
    erased = shop.person("e@example.com")
    with shop.uow.transaction() as session:
        row = session.get(Contact, erased)
        assert row is not None
        row.erased_at = NOW
    queued = shop.outbox("queued", alive, "fine", {"saved": {}, "who": "{{ contact.first_name }}"})
    items = [
        RenderRequest(queued, "fine", alive),
        RenderRequest(101, "fine", alive, payload={}),
        RenderRequest(102, "missing", alive, payload={}),
        RenderRequest(103, "fine", erased, payload={}),
        RenderRequest(104, "divides", alive, payload={}),
    ]
    with shop.uow.transaction() as session:
        results = service.render_many(session, shop.settings, items, now=NOW)
    assert isinstance(results[101], dict)
    assert (results[101]["subject"], results[101]["text"]) == ("Hi A", "ok")
    from_row = results[queued]
    assert isinstance(from_row, dict)
    assert from_row["text"] == "okA"  # the payload was read from the outbox row
    kinds = {k: v.kind for k, v in results.items() if isinstance(v, RenderError)}
    assert kinds == {102: "missing_template", 103: "no_contact", 104: "render"}
    divided = results[104]
    assert isinstance(divided, RenderError)
    assert (divided.part, divided.line) == ("text", 1)


def test_rendering_for_an_unknown_contact_or_template_is_not_found(shop: Shop) -> None:
    save(shop, "fine", {"subject": "Hi", "text": "ok"})
    with shop.uow.transaction() as session:
        with pytest.raises(NotFound):
            service.render_for(session, shop.settings, template_id="fine", contact_id="nobody")
        with pytest.raises(NotFound):
            service.render_for(session, shop.settings, template_id="nope", contact_id="nobody")


def test_a_link_that_cannot_be_tracked_is_left_as_written(shop: Shop) -> None:
    html = '<a href="http://">broken</a> <a href="https://tea.example/ok">ok</a>'
    save(shop, "links", {"subject": "s", "html": html})
    contact = shop.person("b@example.com")
    outbox_id = shop.outbox("k-links", contact, "links")
    with shop.uow.transaction() as session:
        [result] = service.render_many(
            session, shop.settings, [RenderRequest(outbox_id, "links", contact)], now=NOW
        ).values()
    assert isinstance(result, dict)
    assert '<a href="http://">broken</a>' in result["html"]
    assert '<a href="https://mail.tea.example/l/c/' in result["html"]
