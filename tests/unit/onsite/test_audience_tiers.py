"""Placements for loyalty members: the ``tiers`` criterion of an audience."""

from __future__ import annotations

import pytest

from lealta.conditions import ContactView
from lealta.errors import InvalidInput
from lealta.onsite.audience import matches, parse

MEMBER = ContactView(id="c1", tags=frozenset({"vip"}), segment="Champions")


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("Gold", True), ("Platinum", True), ("Silver", False), ("gold", False), (None, False)],
)
def test_a_tier_audience_takes_members_of_any_of_its_tiers(
    tier: str | None, expected: bool
) -> None:
    audience = parse({"tiers": ["Gold", "Platinum"]})
    assert matches(audience, MEMBER, tier=tier) is expected


def test_a_tier_audience_is_about_the_person_so_anonymous_visitors_never_match() -> None:
    audience = parse({"tiers": ["Gold"]})
    assert audience.about_the_person()
    assert not matches(audience, None, tier="Gold")
    assert audience.needs() == frozenset()  # the tier is not part of the contact view


def test_tiers_and_with_the_other_criteria() -> None:
    both = parse({"tiers": ["Gold"], "tags": ["vip"]})
    assert matches(both, MEMBER, tier="Gold")
    assert not matches(both, ContactView(id="c2"), tier="Gold")
    assert not matches(both, MEMBER, tier=None)


def test_without_tiers_the_tier_plays_no_part() -> None:
    assert matches(parse({"tags": ["vip"]}), MEMBER, tier=None)
    assert matches(parse({}), MEMBER, tier="Bronze")


@pytest.mark.parametrize("tiers", ["Gold", [""], [{"name": "Gold"}], ["x" * 101]])
def test_bad_tiers_are_refused_naming_the_audience(tiers: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"tiers": tiers})
    assert caught.value.field == "audience"
    assert "tiers" in str(caught.value)
