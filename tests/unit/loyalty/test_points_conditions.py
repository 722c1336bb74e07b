"""The ``loyalty_points`` workflow condition, what it makes the runner load, and its editor
form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lealta.conditions import ConditionSpec, evaluate
from lealta.conditions.reads import PARTS, condition_needs
from lealta.console.journey_edit_form import (
    CONDITION_KINDS,
    blank_condition,
    condition_fields,
    condition_words,
    read_condition,
)
from tests.unit.automations.factories import T0, contact

SPEC: TypeAdapter[ConditionSpec] = TypeAdapter(ConditionSpec)


def holds(spec: dict[str, Any], points: int) -> bool:
    who = contact(points=points)
    return evaluate(SPEC.validate_python(spec), who, now=T0, entered_at=T0 - timedelta(days=1))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"gte": 500}, {0: False, 499: False, 500: True, 501: True}),
        ({"lte": 100}, {0: True, 100: True, 101: False}),
        ({"gte": 100, "lte": 200}, {99: False, 100: True, 200: True, 201: False}),
        ({"gte": 0}, {0: True, 7: True}),
        ({"lte": 0}, {0: True, 1: False}),
    ],
)
def test_points_conditions_at_their_bounds(spec: dict[str, Any], expected: dict[int, bool]) -> None:
    full = {"kind": "loyalty_points", **spec}
    assert {points: holds(full, points) for points in expected} == expected


def test_a_contact_without_points_has_a_balance_of_zero() -> None:
    assert contact().points == 0
    assert holds({"kind": "loyalty_points", "lte": 10}, contact().points)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "give gte, lte or both"),
        ({"gte": 600, "lte": 500}, "gte 600 is above lte 500"),
        ({"gte": -1}, "greater than or equal to 0"),
        ({"gte": 1.5}, "valid integer"),
        ({"gte": 5, "tier": "Gold"}, "Extra inputs"),
    ],
)
def test_bad_points_conditions_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        SPEC.validate_python({"kind": "loyalty_points", **spec})
    assert message in str(refused.value)


def test_the_balance_is_loaded_only_for_a_workflow_that_tests_it() -> None:
    assert "points" in PARTS
    assert condition_needs(SPEC.validate_python({"kind": "loyalty_points", "gte": 1})) == {"points"}
    nested = {
        "kind": "all",
        "conditions": [
            {"kind": "tag", "tag": "vip"},
            {"kind": "not", "condition": {"kind": "loyalty_points", "lte": 99}},
        ],
    }
    assert condition_needs(SPEC.validate_python(nested)) == {"tags", "points"}
    assert "points" not in condition_needs(SPEC.validate_python({"kind": "loyalty_tier"}))


def test_the_journey_editor_offers_the_points_condition() -> None:
    assert CONDITION_KINDS["loyalty_points"] == "Loyalty points balance is between"
    blank = blank_condition("loyalty_points")
    assert blank == {"kind": "loyalty_points", "gte": 0}
    fields = condition_fields(blank, "s.a.c.", [])["fields"]
    assert [(f["name"], f["kind"]) for f in fields] == [
        ("s.a.c.gte", "number"),
        ("s.a.c.lte", "number"),
    ]
    read = read_condition(
        {"s.a.c.kind": "loyalty_points", "s.a.c.gte": " 500 ", "s.a.c.lte": ""}, "s.a.c.", blank
    )
    assert read == {"kind": "loyalty_points", "gte": "500"}
    assert SPEC.validate_python(read).model_dump(exclude_none=True) == {
        "kind": "loyalty_points",
        "gte": 500,
    }
    both = read_condition(
        {"s.a.c.kind": "loyalty_points", "s.a.c.gte": "100", "s.a.c.lte": "900"}, "s.a.c.", read
    )
    at_most = read_condition(
        {"s.a.c.kind": "loyalty_points", "s.a.c.gte": "", "s.a.c.lte": "50"}, "s.a.c.", read
    )
    assert condition_words(read) == "loyalty points at least 500"
    assert condition_words(both) == "loyalty points between 100 and 900"
    assert condition_words(at_most) == "loyalty points at most 50"
    switched = read_condition({"s.a.c.kind": "loyalty_points"}, "s.a.c.", {"kind": "tag"})
    assert switched == {"kind": "loyalty_points", "gte": 0}
