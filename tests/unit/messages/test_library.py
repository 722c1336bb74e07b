"""The shipped message templates cover every send step of the shipped workflows, validate, and
render in English and Italian for a realistic contact with what the workflow hands them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from lealta.automations import catalog as workflows
from lealta.automations.definition import EventTrigger, SendStep, VoucherStep, WorkflowDefinition
from lealta.loyalty.program import load_program
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
    "Loyalty Tier Upgraded": {"from": "Silver", "to": "Gold", "reason": "5 orders in 730 days"},
    "Loyalty Tier At Risk": {
        "tier": "Gold",
        "to_tier": "Silver",
        "drops_on": (NOW.date() + dt.timedelta(days=30)).isoformat(),
        "keep": "1 more order keeps you Gold",
    },
    "Loyalty Points Expiring": {
        "points": 120,
        "expires_on": (NOW.date() + dt.timedelta(days=14)).isoformat(),
        "days_left": 14,
        "balance": 480,
    },
}
GENIUS = load_program(
    resources.files("lealta.loyalty").joinpath("examples/genius.yaml").read_text("utf-8")
)


def loyalty_of(tier: str) -> dict[str, Any]:
    """The ``loyalty`` context of a member of ``tier`` of the shipped Genius programme, as
    :mod:`lealta.messages.context` builds it."""
    names = GENIUS.tier_names()
    above = names.index(tier) + 1
    return {
        "tier": tier,
        "since": NOW.date() - dt.timedelta(days=1),
        "until": dt.date(NOW.year + 1, 12, 31),
        "qualified_by": "5 orders in 730 days",
        "score_sum": 12,
        "next_tier": names[above] if above < len(names) else None,
        "program": GENIUS.name,
        "currency": GENIUS.currency,
        "benefits": [b.model_dump(mode="json") for b in GENIUS.benefits_of(tier)],
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
        "loyalty": loyalty_of("Gold"),
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


def _loyalty_mail(template_id: str, language: str, loyalty: Any) -> dict[str, str]:
    """``template_id`` rendered for Giulia in ``language`` with ``loyalty`` as her loyalty
    context (None: she is in no tier any more when it is sent)."""
    rules = workflows.load_template("loyalty-tier-welcome")
    context = _context(rules, language)
    if loyalty is None:
        del context["loyalty"]
    else:
        context["loyalty"] = loyalty
    doc = SHIPPED[template_id]
    parts = render(doc["body"], context, channel=doc["channel"])
    return {name: " ".join(str(value).split()) for name, value in parts.items()}


def test_the_tier_welcome_names_the_tier_and_lists_every_benefit_with_its_code() -> None:
    gold = loyalty_of("Gold")
    codes = [b["code"] for b in gold["benefits"]]
    assert codes == ["GENIUS-BDAY", "GENIUS15", "GENIUS-SHIP-ALL", "GENIUS-EARLY"]
    english = _loyalty_mail("loyalty-tier-welcome", "en", gold)
    assert english["subject"] == "Giulia, you are now Gold"
    for part in ("html", "text"):
        assert all(code in english[part] for code in codes)
        assert "15% off every order" in english[part]
        assert "Free shipping on every order" in english[part]
        assert "Sales open to you 48 hours before everyone else" in english[part]
        assert "A birthday gift: €5 voucher" in english[part]
        assert "(up from Silver)" in english[part]
        assert "Next up: Platinum." in english[part]
        assert f"until at least 31 December {NOW.year + 1}" in english[part]
    italian = _loyalty_mail("loyalty-tier-welcome", "it", gold)
    assert italian["subject"] == "Giulia, ora sei Gold"
    for part in ("html", "text"):
        assert all(code in italian[part] for code in codes)
        assert "15% di sconto su ogni ordine" in italian[part]
        assert "Il prossimo livello: Platinum." in italian[part]
        assert f"almeno fino al 31 dicembre {NOW.year + 1}" in italian[part]


def test_the_tier_welcome_words_amounts_in_the_programme_currency_per_language() -> None:
    member = {
        **loyalty_of("Member"),
        "currency": "EUR",
        "benefits": [
            {"type": "fixed_discount", "code": "TEN", "amount": 10.0, "min_order": 80.0},
            {"type": "free_shipping", "code": "SHIP", "min_order": 49.9},
            {"type": "shipping_discount", "code": "HALF", "percent": 50.0, "amount": None},
            {"type": "percent_discount", "code": "P", "percent": 7.5, "description": "On toys."},
        ],
    }
    english = _loyalty_mail("loyalty-tier-welcome", "en", member)["text"]
    assert "€10.00 off orders of €80.00 or more Code at checkout: TEN" in english
    assert "Free shipping on orders of €49.90 or more" in english
    assert "50% off shipping" in english
    assert "7.5% off every order (On toys.)" in english
    italian = _loyalty_mail("loyalty-tier-welcome", "it", member)["text"]
    assert "10,00 € di sconto sugli ordini da 80,00 € in su" in italian
    assert "7,5% di sconto su ogni ordine" in italian


def test_the_top_tier_welcome_says_there_is_nothing_above() -> None:
    top = {**loyalty_of("Platinum"), "until": None}
    english = _loyalty_mail("loyalty-tier-welcome", "en", top)
    assert "Platinum is our highest tier." in english["html"]
    assert "Next up" not in english["html"]
    assert "until at least" not in english["text"]
    assert "GENIUS-PREVIEW" in english["text"]
    assert "New collections a week early." in english["text"]  # the benefit's description


def test_a_member_in_no_tier_when_it_is_sent_gets_no_broken_mail() -> None:
    welcome = _loyalty_mail("loyalty-tier-welcome", "en", None)
    assert welcome["subject"] == "Giulia, you are now Gold"  # the tier the event named
    reminder = _loyalty_mail("loyalty-tier-reminder", "it", None)
    assert reminder["subject"] == "I tuoi vantaggi ti aspettano, Giulia"
    for parts in (welcome, reminder):
        assert "Code" not in parts["text"]
        assert "Codice" not in parts["text"]


def test_the_tier_reminder_shows_the_codes_of_the_tier_held_when_sent() -> None:
    english = _loyalty_mail("loyalty-tier-reminder", "en", loyalty_of("Silver"))
    assert english["subject"] == "Your Silver benefits are waiting, Giulia"
    assert "Code at checkout: GENIUS10" in english["text"]
    assert "GENIUS10" in english["html"]


def _at_risk(language: str, **properties: Any) -> dict[str, str]:
    """The at-risk e-mail for Giulia (Gold) in ``language``, the event carrying
    ``properties`` (None drops one; nothing given: those of :data:`TRIGGERS`)."""
    rules = workflows.load_template("loyalty-tier-at-risk")
    context = _context(rules, language)
    given = {**TRIGGERS["Loyalty Tier At Risk"], **properties}
    context["trigger"]["properties"] = {k: v for k, v in given.items() if v is not None}
    doc = SHIPPED["loyalty-tier-at-risk"]
    parts = render(doc["body"], context, channel=doc["channel"])
    parts["html"] = re.sub(r"<[^>]+>", " ", parts["html"])  # the words a reader sees
    words = {name: " ".join(str(value).split()) for name, value in parts.items()}
    words["html"] = re.sub(r" ([.,:])", r"\1", words["html"])
    return words


def test_the_at_risk_mail_says_what_keeps_the_tier_and_when_it_would_drop() -> None:
    drops = NOW.date() + dt.timedelta(days=30)
    english = _at_risk("en")
    assert english["subject"] == "1 more order keeps you Gold, Giulia"
    for part in ("html", "text"):
        assert "The good news: 1 more order keeps you Gold." in english[part]
        assert f"on {drops.day} {drops:%B} {drops.year} you would move to Silver" in english[part]
        assert "GENIUS15" in english[part]  # what Gold still gives meanwhile
    italian = _at_risk("it")
    assert italian["subject"] == "Giulia, mantieni il tuo livello Gold"
    assert "passeresti al livello Silver" in italian["text"]
    assert "keeps you" not in italian["text"]  # the engine's words are English


def test_the_at_risk_mail_reads_well_when_the_rule_is_not_about_orders() -> None:
    english = _at_risk(
        "en", keep="qualifying for Gold again: a score sum of 12 or more", to_tier=None
    )
    assert english["subject"] == "Keep your Gold status, Giulia"
    assert "you would move out of the programme" in english["text"]
    assert "To stay Gold, you need a score sum of 12 or more." in english["text"]
    assert "good news" not in english["text"]


def test_the_at_risk_mail_without_the_events_details_falls_back_to_the_tier_held() -> None:
    english = _at_risk("en", tier=None, to_tier=None, drops_on=None, keep=None)
    assert english["subject"] == "Keep your Gold status, Giulia"  # loyalty.tier
    assert (
        "no longer quite enough for Gold, and without an order soon you could lose it."
        in (english["text"])
    )
    assert "out of the programme" not in english["text"]  # not known without the event


MESI = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
]


def test_the_italian_at_risk_mail_says_the_exact_orders_and_spend_that_keep_the_tier() -> None:
    drops = NOW.date() + dt.timedelta(days=30)
    numbers = {"keep_orders": 2, "keep_spend": 140.0, "keep_before": drops.isoformat()}
    italian = _at_risk("it", **numbers)
    day = f"{drops.day} {MESI[drops.month - 1]} {drops.year}"  # an Italian reader's day
    for part in ("html", "text"):
        assert (
            f"La buona notizia: ti bastano 2 ordini in più o 140,00 € di acquisti prima del "
            f"{day} per restare Gold." in italian[part]
        ), italian[part]
        assert "ogni acquisto conta" not in italian[part]
    one = _at_risk("it", keep_orders=1, keep_spend=None, keep_before=drops.isoformat())
    assert f"ti basta 1 ordine in più prima del {day} per restare Gold." in one["text"]
    spend = _at_risk("it", keep_orders=None, keep_spend=35.5, keep_before=drops.isoformat())
    assert f"ti basta 35,50 € di acquisti prima del {day} per restare Gold." in spend["text"]
    # without the numbers (a score is missing too): the general words
    assert "ogni acquisto conta" in _at_risk("it")["text"]


def _seen(parts: dict[str, str]) -> dict[str, str]:
    """The parts with the HTML's tags taken out (the words a reader sees)."""
    html = " ".join(re.sub(r"<[^>]+>", " ", parts["html"]).split())
    return {**parts, "html": re.sub(r" ([.,:])", r"\1", html)}


def test_the_tier_welcome_says_what_it_takes_to_reach_the_next_tier_and_by_when() -> None:
    before = dt.date(NOW.year + 1, 3, 31)
    progress = {
        "next_tier": "Gold",
        "orders": 2,
        "spend": 140.0,
        "before": before,
        "words": "2 more orders or €140 to Gold before 31 March",
    }
    silver = {**loyalty_of("Silver"), "progress": progress}
    english = _seen(_loyalty_mail("loyalty-tier-welcome", "en", silver))
    italian = _seen(_loyalty_mail("loyalty-tier-welcome", "it", silver))
    for part in ("html", "text"):
        assert (
            "Next up: Gold. 2 more orders or €140 to Gold before 31 March, with even more in "
            "store." in english[part]
        ), english[part]
        assert (
            "Il prossimo livello: Gold. Ti mancano 2 ordini o 140,00 € per arrivare a Gold "
            f"entro il 31 marzo {before.year}, con ancora più vantaggi." in italian[part]
        ), italian[part]
    one = {**progress, "orders": 1, "spend": None, "before": None}
    words = _loyalty_mail("loyalty-tier-welcome", "it", {**silver, "progress": one})["text"]
    assert "Ti manca 1 ordine per arrivare a Gold, con ancora più vantaggi." in words
    # no progress (a score is what is missing): the general words
    for empty in ({}, None):
        plain = _loyalty_mail("loyalty-tier-welcome", "en", {**silver, "progress": empty})
        assert "Next up: Gold. Keep ordering and you will get there" in plain["text"]
        plain_it = _loyalty_mail("loyalty-tier-welcome", "it", {**silver, "progress": empty})
        assert "Continua così e ci arriverai" in plain_it["text"]
