"""The shipped message templates cover every send step of the shipped workflows, validate, and
render in English and Italian for a realistic contact with what the workflow hands them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from lealta.automations import catalog as workflows
from lealta.automations.definition import EventTrigger, SendStep, VoucherStep, WorkflowDefinition
from lealta.messages import catalog
from lealta.messages.context import message_context
from lealta.messages.render import render
from lealta.messages.validate import check

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CODE = "WLCM7K2Q9P"
# What the triggering event of an event-started workflow carries, by event name.
TRIGGERS: dict[str, dict[str, Any]] = {
    "Checkout Started": {
        "products": [
            {"name": "Sencha", "price": 12.5, "quantity": 2, "url": "https://tea.example/s"},
            {"name": "Teapot", "price": 40},
        ],
        "currency": "EUR",
        "url": "https://tea.example/cart",
    },
    "File Downloaded": {"file": "brewing-guide.pdf", "title": "The brewing guide"},
    "Form Submitted": {"form": "newsletter"},
}


def _uses() -> list[tuple[str, str, WorkflowDefinition]]:
    """(template id, channel, workflow) for each send step of each shipped workflow."""
    found = []
    for info in workflows.templates():
        rules = workflows.load_template(info.id)
        for step in rules.steps:
            if isinstance(step, SendStep):
                found.append((step.template, step.channel, rules))
    return found


USES = _uses()
SHIPPED = {doc["id"]: doc for doc in catalog.shipped()}


def _context(rules: WorkflowDefinition, language: str) -> dict[str, Any]:
    contact = {"id": "c1", "first_name": "Giulia", "email": "giulia@example.com"}
    order = {
        "id": "O-9",
        "placed_at": NOW - dt.timedelta(days=40),
        "amount": Decimal("54.50"),
        "currency": "EUR",
        "items": [{"name": "Oolong", "price": 14.5}],
        "categories": ["tea"],
    }
    base = {
        "contact": {**contact, "language": language},
        "purchases": [order],
        "last_order": order,
        "vouchers": [],
        "now": NOW,
    }
    payload: dict[str, Any] = {"workflow": rules.id, "saved": {}}
    vouchers = {}
    issued = next((s for s in rules.steps if isinstance(s, VoucherStep)), None)
    if issued is not None:
        payload["saved"] = {issued.save_as: CODE}
        vouchers[CODE] = {
            "code": CODE,
            "display": "WLCM-7K2Q-9P",
            "kind": issued.kind,
            "value": issued.value,
            "currency": None,
            "issued_at": NOW,
            "expires_at": NOW + dt.timedelta(days=issued.valid_days or 14),
        }
    if isinstance(rules.trigger, EventTrigger):
        event = rules.trigger.event
        payload["trigger"] = {"event": event, "properties": TRIGGERS[event], "at": NOW}
    links = {
        "unsubscribe": "https://lealta.example/u/1",
        "preferences": "https://lealta.example/p/c1",
        "survey": lambda score, survey="nps": f"https://lealta.example/s/{survey}/{score}",
    }
    shop = {"name": "Tea Shop", "email": "news@tea.example", "url": "https://tea.example"}
    return message_context(base, payload=payload, vouchers=vouchers, links=links, shop=shop)


def test_every_template_a_shipped_workflow_sends_is_shipped_for_its_channel() -> None:
    assert len(USES) >= 25
    missing = sorted({t for t, _, _ in USES if t not in SHIPPED})
    assert missing == []
    assert all(SHIPPED[t]["channel"] == channel for t, channel, _ in USES)


def test_the_library_ships_nothing_no_workflow_uses() -> None:
    assert sorted(SHIPPED) == sorted({t for t, _, _ in USES})


@pytest.mark.parametrize("template_id", sorted(SHIPPED))
def test_each_shipped_template_validates_and_has_an_italian_variant(template_id: str) -> None:
    doc = SHIPPED[template_id]
    assert check(doc["channel"], doc["body"]) == []
    assert "it" in doc["body"]["variants"]
    assert doc["description"]


@pytest.mark.parametrize(("template_id", "workflow"), sorted({(t, r.id) for t, _, r in USES}))
def test_each_renders_in_english_and_italian_with_what_its_workflow_gives(
    template_id: str, workflow: str
) -> None:
    rules = workflows.load_template(workflow)
    doc = SHIPPED[template_id]
    english = render(doc["body"], _context(rules, "en"), channel=doc["channel"])
    italian = render(doc["body"], _context(rules, "it"), channel=doc["channel"])
    for parts in (english, italian):
        for name in ("subject", "html", "text"):
            assert parts[name].strip(), name
            assert "{{" not in parts[name], name
            assert "{%" not in parts[name], name
            assert "None" not in parts[name], name
        assert "https://lealta.example/u/1" in parts["html"]  # the unsubscribe link
        if "voucher." in str(doc["body"]):
            assert "WLCM-7K2Q-9P" in parts["html"]
    assert italian["subject"] != english["subject"]
    assert italian["text"] != english["text"]
    assert "Giulia" in english["html"]
    assert "Giulia" in italian["html"]


def test_the_feedback_e_mail_asks_for_a_score_from_0_to_10_and_shows_the_voucher() -> None:
    rules = workflows.load_template("inactive-reactivation")
    parts = render(SHIPPED["reactivation-feedback"]["body"], _context(rules, "it"))
    for score in range(11):
        assert f"https://lealta.example/s/nps/{score}" in parts["html"]
    assert "20% di sconto" in " ".join(parts["html"].split())
    assert "WLCM-7K2Q-9P" in parts["text"]


def test_the_cart_reminders_list_the_cart_in_italian() -> None:
    rules = workflows.load_template("abandoned-cart")
    first = render(SHIPPED["cart-reminder-1"]["body"], _context(rules, "it"))
    assert first["subject"] == "Giulia, il tuo carrello ti aspetta"
    assert "Sencha" in first["html"]
    assert "\u00d7 2" in first["html"]  # the quantity
    assert "12,50" in first["html"]  # Italian money
    second = render(SHIPPED["cart-reminder-2"]["body"], _context(rules, "it"))
    assert "Teapot" in second["html"]
    assert "(ancora 7 giorni)" in second["html"]
