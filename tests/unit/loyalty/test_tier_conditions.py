"""The ``loyalty_tier`` workflow condition, its check against a programme, and its editor form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lealta.conditions import ConditionSpec, ContactView, evaluate, unknown_tiers
from lealta.conditions.reads import condition_needs
from lealta.console.journey_edit_form import (
    CONDITION_KINDS,
    blank_condition,
    condition_fields,
    condition_words,
    read_condition,
)
from tests.unit.automations.factories import T0, contact

SPEC: TypeAdapter[ConditionSpec] = TypeAdapter(ConditionSpec)
RANKS = {"member": 1, "silver": 2, "gold": 3, "platinum": 4}


def holds(spec: dict[str, Any], who: ContactView) -> bool:
    return evaluate(SPEC.validate_python(spec), who, now=T0, entered_at=T0 - timedelta(days=1))


def member(tier: str | None) -> ContactView:
    return contact(tier=tier, tier_ranks=RANKS if tier else {})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"kind": "loyalty_tier"}, {None: False, "Member": True, "Gold": True}),
        ({"kind": "loyalty_tier", "at_least": "Gold"}, {None: False, "Silver": False}),
        ({"kind": "loyalty_tier", "at_least": "Gold"}, {"Gold": True}),
        ({"kind": "loyalty_tier", "at_least": "Gold"}, {"Platinum": True}),
        ({"kind": "loyalty_tier", "at_least": "gold"}, {"Silver": False, "Gold": True}),
        ({"kind": "loyalty_tier", "in": ["Gold", "PLATINUM"]}, {None: False, "Silver": False}),
        ({"kind": "loyalty_tier", "in": ["Gold", "PLATINUM"]}, {"Gold": True, "Platinum": True}),
        ({"kind": "loyalty_tier", "at_least": "Diamond"}, {"Platinum": False}),
        ({"kind": "not", "condition": {"kind": "loyalty_tier"}}, {None: True, "Member": False}),
    ],
)  # fmt: skip
def test_tier_conditions(spec: dict[str, Any], expected: dict[str | None, bool]) -> None:
    assert {tier: holds(spec, member(tier)) for tier in expected} == expected


def test_a_condition_gives_at_least_or_in_not_both() -> None:
    with pytest.raises(ValidationError, match="at_least or in, not both"):
        SPEC.validate_python({"kind": "loyalty_tier", "at_least": "Gold", "in": ["Gold"]})
    with pytest.raises(ValidationError):
        SPEC.validate_python({"kind": "loyalty_tier", "in": []})


def test_names_the_programme_lacks_are_found_inside_nested_conditions() -> None:
    spec = SPEC.validate_python(
        {
            "kind": "all",
            "conditions": [
                {"kind": "loyalty_tier", "at_least": "gold"},
                {"kind": "not", "condition": {"kind": "loyalty_tier", "in": ["Diamond", "Silver"]}},
            ],
        }
    )
    assert unknown_tiers(spec, ["Member", "Silver", "Gold"]) == ["Diamond"]


def test_the_tier_is_read_with_the_contact_row() -> None:
    # the tier comes with the contact row itself: the condition asks for no other part
    assert condition_needs(SPEC.validate_python({"kind": "loyalty_tier"})) == frozenset()


def test_the_journey_editor_offers_the_tier_condition() -> None:
    assert CONDITION_KINDS["loyalty_tier"] == "Loyalty tier is"
    blank = blank_condition("loyalty_tier")
    assert blank == {"kind": "loyalty_tier"}
    fields = condition_fields(blank, "s.a.c.", [])["fields"]
    assert [f["name"] for f in fields] == ["s.a.c.at_least", "s.a.c.in"]
    read = read_condition(
        {"s.a.c.kind": "loyalty_tier", "s.a.c.at_least": " Gold ", "s.a.c.in": ""}, "s.a.c.", blank
    )
    assert read == {"kind": "loyalty_tier", "at_least": "Gold"}
    SPEC.validate_python(read)
    anyone = read_condition(
        {"s.a.c.kind": "loyalty_tier", "s.a.c.at_least": "", "s.a.c.in": ""}, "s.a.c.", read
    )
    assert anyone == {"kind": "loyalty_tier"}
    some = read_condition(
        {"s.a.c.kind": "loyalty_tier", "s.a.c.in": "Gold, Platinum"}, "s.a.c.", blank
    )
    assert some == {"kind": "loyalty_tier", "in": ["Gold", "Platinum"]}
    assert condition_words(read) == "loyalty tier Gold or above"
    assert condition_words(some) == "loyalty tier is Gold or Platinum"
    assert condition_words(anyone) == "in a loyalty tier"
