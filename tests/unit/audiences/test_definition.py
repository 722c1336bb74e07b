"""Audience definitions, pure: what is refused and where, what a condition depends on, and
the order of refreshes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from lealta.audiences.definition import (
    dump,
    json_schema,
    load_definition,
    referred,
    rfm_bound,
    time_bound,
)
from lealta.audiences.schedule import ordered
from lealta.errors import InvalidInput

SHOES = {
    "kind": "event_count",
    "event": "Product Viewed",
    "within_days": 14,
    "gte": 3,
    "where": [{"property": "category", "op": "equals", "value": "shoes"}],
}


def test_a_definition_reads_back_equal_from_its_dump() -> None:
    text = (
        "name: Shoe lovers\nlist: shoes\ncondition: {kind: all, conditions: [{kind: tag, tag: a}]}"
    )
    loaded = load_definition(text)
    assert load_definition(dump(loaded)) == loaded
    assert dump(loaded)["condition"]["conditions"][0] == {
        "kind": "tag",
        "tag": "a",
        "present": True,
    }
    assert "condition" in json_schema()["properties"]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (
            {"name": "X", "condition": {"kind": "any", "conditions": [{"kind": "score"}]}},
            "condition.conditions.0",
        ),
        (
            {"name": "X", "condition": {"kind": "not", "condition": {"kind": "tag"}}},
            "condition.condition.tag",
        ),
        ({"name": "X", "condition": {"kind": "nope"}}, "condition"),
        ({"condition": {"kind": "tag", "tag": "a"}}, "name"),
        ({"name": "X", "list": "", "condition": {"kind": "tag", "tag": "a"}}, "list"),
        ({"name": "X", "condition": {"kind": "purchased_since_entered"}}, "condition"),
        ({"name": "X", "condition": {**SHOES, "since_entered": True}}, "condition"),
    ],
)
def test_bad_definitions_name_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as problem:
        load_definition(document)
    assert problem.value.field == field


def test_what_a_condition_depends_on() -> None:
    assert time_bound(SHOES)
    assert not time_bound({"kind": "tag", "tag": "vip"})
    assert time_bound({"kind": "not", "condition": {"kind": "bought", "within_days": 90}})
    assert rfm_bound({"kind": "any", "conditions": [{"kind": "segment", "in": ["Champions"]}]})
    assert not rfm_bound(SHOES)
    both = {
        "kind": "all",
        "conditions": [
            {"kind": "audience", "audience": "A"},
            {"kind": "audience", "audience": "B"},
        ],
    }
    assert referred(both) == {"A", "B"}


def test_audiences_refresh_after_those_they_refer_to() -> None:
    def audience(name: str, *refers: str) -> Any:
        parts = [{"kind": "audience", "audience": other} for other in refers]
        return SimpleNamespace(name=name, condition={"kind": "all", "conditions": parts})

    found = ordered([audience("A", "C"), audience("B"), audience("C", "B"), audience("D", "A")])
    assert [a.name for a in found] == ["B", "C", "A", "D"]
