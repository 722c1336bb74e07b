"""The condition tree as data: parsing with errors that say where, dumping back, and the
tests that belong to a workflow run."""

from __future__ import annotations

import datetime as dt

import pytest

from lealta.conditions import ContactView, EventView, dump, evaluate, parse, run_only
from lealta.conditions.model import audiences_named, json_schema, unknown_tiers
from lealta.errors import InvalidInput

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_a_bad_condition_is_refused_naming_the_field_and_the_place() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse({"kind": "all", "conditions": [{"kind": "bought", "gte": 5, "lte": 2}]}, field="rule")
    assert refused.value.field == "rule"
    assert "conditions.0.bought" in str(refused.value)
    assert "gte 5 is above lte 2" in str(refused.value)
    with pytest.raises(InvalidInput, match="give a range for r, f, m or p"):
        parse({"kind": "rfm"})
    with pytest.raises(InvalidInput, match="kind"):
        parse({"kind": "shoe size"})


def test_a_condition_dumps_to_data_that_parses_back_to_it() -> None:
    tree = parse(
        {
            "kind": "all",
            "conditions": [
                {"kind": "stage", "in": ["Lead"]},
                {"kind": "rfm", "r": {"gte": 4}},
                {"kind": "bought", "category": "shoes", "within_days": 60},
                {"kind": "not", "condition": {"kind": "audience", "audience": "Buyers"}},
            ],
        }
    )
    data = dump(tree)
    assert data["conditions"][0] == {"kind": "stage", "in": ["Lead"]}
    assert data["conditions"][3]["condition"] == {"kind": "audience", "audience": "Buyers"}
    assert parse(data) == tree
    assert audiences_named(tree) == ["Buyers"]
    assert "oneOf" in str(json_schema()) or "anyOf" in str(json_schema())


def test_workflow_only_tests_are_named_and_need_a_run_entry_to_evaluate() -> None:
    tree = parse(
        {
            "kind": "any",
            "conditions": [
                {"kind": "purchased_since_entered"},
                {"kind": "event_count", "event": "Page Viewed", "since_entered": True},
                {"kind": "message", "template": "welcome"},
            ],
        }
    )
    assert run_only(tree) == [
        "purchased_since_entered",
        "event_count of 'Page Viewed' with since_entered",
    ]
    with pytest.raises(InvalidInput, match="workflow run"):
        evaluate(tree, ContactView(id="c"), now=NOW)
    assert not evaluate(tree, ContactView(id="c"), now=NOW, entered_at=NOW)


def test_a_message_counts_since_the_run_entered_in_a_workflow_and_at_any_time_elsewhere() -> None:
    opened = EventView(
        "Email Opened", "track", NOW - dt.timedelta(days=10), {"template": "welcome"}
    )
    person = ContactView(id="c", events=[opened])
    message = parse({"kind": "message", "template": "welcome"})
    assert evaluate(message, person, now=NOW)
    assert not evaluate(message, person, now=NOW, entered_at=NOW - dt.timedelta(days=5))
    assert not evaluate(parse({**dump(message), "within_days": 7}), person, now=NOW)


def test_unknown_tiers_are_listed_in_the_order_written() -> None:
    tree = parse(
        {
            "kind": "all",
            "conditions": [
                {"kind": "loyalty_tier", "at_least": "Diamond"},
                {"kind": "loyalty_tier", "in": ["Gold", "Ruby"]},
            ],
        }
    )
    assert unknown_tiers(tree, ["gold", "Silver"]) == ["Diamond", "Ruby"]
