"""The shipped "points about to expire" e-mail, rendered in English and Italian from what the
member's loyalty context holds when it is sent, or from the event that started it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from lealta.automations import catalog as workflows
from lealta.automations.definition import EventTrigger
from lealta.messages.render import render
from tests.unit.messages.test_library import NOW, SHIPPED, _context, loyalty_of

SOON = NOW.date() + dt.timedelta(days=14)


def _points(**changes: Any) -> dict[str, Any]:
    """Giulia's points as :mod:`lealta.messages.context` gives them: 1,480 points worth
    €14.80, 120 of them expiring in two weeks."""
    expiring = [{"expires_on": SOON, "points": 120}]
    return {
        "balance": 1480,
        "value": Decimal("14.80"),
        "expiring": expiring,
        "next_expiry": expiring[0],
        **changes,
    }


def _mail(language: str, loyalty: Any, trigger: dict[str, Any] | None = None) -> dict[str, str]:
    """The e-mail for Giulia with ``loyalty`` as her loyalty context (None: none) and the
    event's ``trigger`` properties (None: the usual ones)."""
    rules = workflows.load_template("loyalty-points-expiring")
    context = _context(rules, language)
    context["loyalty"] = loyalty
    if loyalty is None:
        del context["loyalty"]
    if trigger is not None:
        context["trigger"]["properties"] = trigger
    doc = SHIPPED["loyalty-points-expiring"]
    parts = render(doc["body"], context, channel=doc["channel"])
    parts["html"] = re.sub(r"<[^>]+>", " ", parts["html"])
    words = {name: " ".join(str(value).split()) for name, value in parts.items()}
    return {name: re.sub(r" ([.,:])", r"\1", value) for name, value in words.items()}


def test_the_workflow_starts_on_the_points_event_and_sends_the_e_mail() -> None:
    rules = workflows.load_template("loyalty-points-expiring")
    assert rules.trigger == EventTrigger(event="Loyalty Points Expiring")
    assert [step.id for step in rules.steps] == ["use-them", "told"]


def test_it_says_how_many_points_expire_when_and_what_the_balance_is_worth() -> None:
    english = _mail("en", {**loyalty_of("Gold"), "points": _points()})
    day = f"{SOON.day} {SOON:%B} {SOON.year}"
    assert english["subject"] == f"Giulia, 120 of your points expire on {day}"
    for part in ("html", "text"):
        assert f"120 of them on {day}, in 14 days." in english[part]
        assert "1,480 points = €14.80" in english[part]
        assert "GENIUS15" in english[part]  # the tier's codes too
    italian = _mail("it", {**loyalty_of("Gold"), "points": _points()})
    assert italian["subject"].startswith("Giulia, 120 dei tuoi punti scadono il ")
    assert "tra 14 giorni" in italian["text"]
    assert "1.480 punti = 14,80 €" in italian["text"]


def test_a_member_in_no_tier_still_hears_about_the_points() -> None:
    loyalty = {**loyalty_of("Member"), "tier": None, "benefits": [], "points": _points()}
    english = _mail("en", loyalty)
    assert "1,480 points" in english["text"]
    assert "member your next order" not in english["text"]


def test_without_points_in_the_context_the_event_says_how_many() -> None:
    tomorrow = (NOW.date() + dt.timedelta(days=1)).isoformat()
    english = _mail("en", None, {"points": 75, "expires_on": tomorrow})
    assert english["subject"].startswith("Giulia, 75 of your points expire on ")
    assert "in 1 day." in english["text"]
    assert "Your balance" not in english["text"]
    nothing = _mail("en", None, {})
    assert nothing["subject"] == "Giulia, your points expire soon"
