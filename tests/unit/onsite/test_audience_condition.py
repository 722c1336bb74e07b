"""On-site audiences speak the shared condition language: a ``condition`` beside the short
criteria, which map onto the same tree."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.conditions import AllOf, ContactView, EventView
from lealta.errors import InvalidInput
from lealta.onsite.audience import matches, parse

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
SHOES = {
    "kind": "event_count",
    "event": "Product Viewed",
    "within_days": 14,
    "gte": 2,
    "where": [{"property": "category", "op": "equals", "value": "shoes"}],
}


def _viewer(*days_ago: int) -> ContactView:
    return ContactView(
        id="c1",
        tags=frozenset({"vip"}),
        events=[
            EventView("Product Viewed", "track", NOW - dt.timedelta(days=d), {"category": "shoes"})
            for d in days_ago
        ],
    )


def test_a_condition_picks_visitors_by_what_they_did_in_a_window() -> None:
    audience = parse({"version": 1, "condition": SHOES})
    assert matches(audience, _viewer(1, 13), now=NOW)
    assert not matches(audience, _viewer(1, 14), now=NOW)  # 14 days ago is out of the window
    assert not matches(audience, None, now=NOW)  # anonymous visitors have done nothing known
    assert audience.needs() == {"events"}


def test_the_condition_is_and_ed_with_the_short_criteria() -> None:
    audience = parse({"version": 1, "exclude_tags": ["vip"], "condition": SHOES})
    assert not matches(audience, _viewer(1, 2), now=NOW)
    assert matches(parse({"tags": ["vip"], "condition": SHOES}), _viewer(1, 2), now=NOW)


def test_short_criteria_are_one_tree_of_the_shared_language() -> None:
    tree = parse({"segments": ["Champions"], "tags": ["a", "b"], "score_min": 10}).as_condition()
    assert isinstance(tree, AllOf)
    assert [part.kind for part in tree.conditions] == ["segment", "any", "score"]


def test_the_stored_audience_keeps_its_condition_whole_and_loads_back() -> None:
    audience = parse({"version": 1, "condition": {"kind": "all", "conditions": [SHOES]}})
    stored = audience.model_dump(mode="json", exclude_defaults=True)
    assert stored["condition"]["conditions"][0]["kind"] == "event_count"
    assert parse(stored) == audience


def test_workflow_only_tests_and_bad_conditions_are_refused_naming_the_audience() -> None:
    with pytest.raises(InvalidInput, match="workflow run") as refused:
        parse({"condition": {"kind": "purchased_since_entered"}})
    assert refused.value.field == "audience"
    with pytest.raises(InvalidInput, match="condition"):
        parse({"condition": {"kind": "tag"}})
    with pytest.raises(ValueError, match="give now"):
        matches(parse({"condition": SHOES}), _viewer(1))
