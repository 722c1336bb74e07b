from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from lealta.errors import InvalidInput
from lealta.scoring.rules import (
    Condition,
    ScoringEvent,
    ScoringModel,
    ScoringRule,
    conditions_hold,
    load_model,
    property_value,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PROPS: dict[str, Any] = {
    "url": "https://shop.example/pricing?plan=pro",
    "total": "49.90",
    "count": 3,
    "paid": True,
    "tags": ["vip", "newsletter"],
    "product": {"category": "Shoes", "sizes": [40, 41]},
    "weird.key": "kept",
    "empty": None,
}


def event(name: str | None = None, type_: str = "track", **properties: Any) -> ScoringEvent:
    return ScoringEvent(key="k1", occurred_at=T0, type=type_, name=name, properties=properties)


@pytest.mark.parametrize(
    ("prop", "op", "value", "expected"),
    [
        ("url", "equals", "https://shop.example/pricing?plan=pro", True),
        ("url", "equals", "https://shop.example/", False),
        ("total", "equals", 49.9, True),
        ("count", "equals", "3", True),
        ("paid", "equals", True, True),
        ("paid", "equals", 1, False),
        ("count", "not_equals", 4, True),
        ("count", "not_equals", 3, False),
        ("url", "contains", "/pricing", True),
        ("url", "contains", "/blog", False),
        ("tags", "contains", "vip", True),
        ("tags", "contains", "gold", False),
        ("count", "contains", "3", False),
        ("url", "starts_with", "https://", True),
        ("url", "starts_with", "http://", False),
        ("url", "ends_with", "=pro", True),
        ("count", "ends_with", "3", False),
        ("url", "matches", "*/pricing*", True),
        ("url", "matches", "*/blog*", False),
        ("url", "regex", r"plan=(pro|team)", True),
        ("url", "regex", r"^/pricing", False),
        ("total", "gt", 49, True),
        ("total", "gt", "49.90", False),
        ("total", "gte", 49.9, True),
        ("total", "lt", 50, True),
        ("total", "lte", 49.89, False),
        ("count", "gte", 3, True),
        ("url", "gt", 1, False),
        ("paid", "gt", 0, False),
        ("count", "in", [1, 2, 3], True),
        ("count", "in", ["3"], True),
        ("url", "in", ["a", "b"], False),
        ("product.category", "equals", "Shoes", True),
        ("product.category", "equals", "shoes", False),
        ("product.sizes.1", "equals", 41, True),
        ("product.sizes.7", "exists", True, False),
        ("weird.key", "equals", "kept", True),
        ("url", "exists", True, True),
        ("url", "exists", None, True),
        ("url", "exists", False, False),
        ("nowhere", "exists", False, True),
        ("empty", "exists", False, True),
    ],
)
def test_condition_operators(prop: str, op: Any, value: Any, expected: bool) -> None:
    assert Condition(property=prop, op=op, value=value).holds(PROPS) is expected


@pytest.mark.parametrize(
    ("op", "value"),
    [
        ("equals", "x"),
        ("not_equals", "x"),
        ("contains", "x"),
        ("starts_with", "x"),
        ("ends_with", "x"),
        ("matches", "*"),
        ("regex", "."),
        ("gt", 0),
        ("gte", 0),
        ("lt", 0),
        ("lte", 0),
        ("in", ["x"]),
        ("exists", True),
    ],
)
def test_a_missing_or_null_property_fails_every_operator(op: Any, value: Any) -> None:
    condition = Condition(property="nowhere", op=op, value=value)
    assert not condition.holds(PROPS)
    assert not condition.model_copy(update={"property": "empty"}).holds(PROPS)


def test_numeric_strings_compare_as_numbers_but_other_text_does_not() -> None:
    over = Condition(property="total", op="gte", value=100)
    assert over.holds({"total": "149.50"})
    assert over.holds({"total": " 1e3 "})
    assert not over.holds({"total": "99.99"})
    for text in ("abc", "nan", "inf", "1_000", ""):
        assert not over.holds({"total": text})


def test_all_conditions_must_hold() -> None:
    conditions = [
        Condition(property="url", op="contains", value="pricing"),
        Condition(property="count", op="gt", value=5),
    ]
    assert not conditions_hold(conditions, PROPS)
    assert conditions_hold(conditions[:1], PROPS)
    assert conditions_hold([], PROPS)


def test_property_value_walks_dotted_paths() -> None:
    assert property_value(PROPS, "product.category") == "Shoes"
    assert property_value(PROPS, "product.colour") is None
    assert property_value(PROPS, "url.host") is None
    assert property_value(PROPS, "tags.x") is None


@pytest.mark.parametrize(
    ("op", "value", "message"),
    [
        ("regex", "(", "invalid regex"),
        ("regex", 3, "needs a text value"),
        ("matches", None, "needs a text value"),
        ("gt", "lots", "needs a number"),
        ("gt", True, "needs a number"),
        ("in", "abc", "needs a list"),
        ("exists", "yes", "true or false"),
        ("equals", None, "needs a value"),
    ],
)
def test_conditions_refuse_values_their_operator_cannot_use(
    op: Any, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition(property="url", op=op, value=value)


def test_conditions_refuse_unknown_operators_and_fields() -> None:
    with pytest.raises(ValidationError):
        Condition.model_validate({"property": "url", "op": "like", "value": "x"})
    with pytest.raises(ValidationError):
        Condition.model_validate({"property": "url", "op": "equals", "value": "x", "case": 1})


def test_rules_match_names_case_insensitively_and_types() -> None:
    rule = ScoringRule(id="order", event="Order Completed", points=1)
    assert rule.matches(event("order completed"))
    assert rule.matches(event("ORDER COMPLETED", type_="page"))
    assert not rule.matches(event("Order Refunded"))
    assert not rule.matches(event(None))

    pages = ScoringRule(id="pages", type="Page", points=1)
    assert pages.matches(event("Home", type_="page"))
    assert pages.matches(event(None, type_="page"))
    assert not pages.matches(event("Home", type_="screen"))

    either = ScoringRule(id="either", events=["Cart Abandoned", "Checkout Started"], points=1)
    assert either.matches(event("checkout started"))
    assert not either.matches(event("Order Completed"))

    anything = ScoringRule(id="anything", points=1)
    assert anything.matches(event(None, type_="identify"))


def test_rule_conditions_are_part_of_the_match() -> None:
    rule = ScoringRule(
        id="pricing",
        type="page",
        where=[Condition(property="url", op="matches", value="*/pricing*")],
        points=5,
    )
    assert rule.matches(event("Pricing", type_="page", url="https://x.io/pricing"))
    assert not rule.matches(event("Blog", type_="page", url="https://x.io/blog"))
    assert not rule.matches(event("Pricing", type_="page"))


def rules_doc(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"rules": list(rules), **extra}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (rules_doc({"id": "a", "points": 1}, {"id": "a", "points": 2}), "duplicate rule id 'a'"),
        (
            rules_doc(
                {
                    "id": "pricing",
                    "points": 1,
                    "where": [{"property": "url", "op": "regex", "value": "("}],
                }
            ),
            r"rule 'pricing'.*invalid regex",
        ),
        (rules_doc({"id": "burst", "points": 1, "period_days": 7}), "rule 'burst': give both"),
        (
            rules_doc({"id": "burst", "points": 1, "max_points_per_period": 5}),
            "rule 'burst': give both",
        ),
        (rules_doc({"id": "nil", "points": 0}), "rule 'nil': points must not be zero"),
        (rules_doc({"id": "x", "points": 1, "max_times": 0}), "rule 'x'.*max_times"),
        (rules_doc({"id": "x", "points": 1, "colour": "red"}), "rule 'x'.*colour"),
        (rules_doc({"id": "Not A Slug", "points": 1}), "id"),
        (
            rules_doc({"id": "x", "points": 1}, thresholds=[50, 25, 50]),
            "threshold 50 is given twice",
        ),
        (rules_doc(min_score=10, max_score=5), "min_score 10 is above max_score 5"),
        (rules_doc(half_life_days=0), "half_life_days"),
        (rules_doc(decay=True), "decay"),
    ],
)
def test_invalid_models_are_refused_with_a_clear_message(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_model(document)
    with pytest.raises(ValidationError, match=message):
        ScoringModel.model_validate(document)


def test_thresholds_are_sorted() -> None:
    assert ScoringModel(rules=[], thresholds=[75, 25, 50]).thresholds == [25, 50, 75]


def test_the_default_model_is_valid_and_survives_yaml_and_json() -> None:
    model = ScoringModel.default()
    assert model.half_life_days == 30
    assert model.max_score == 100
    assert model.thresholds == [25, 50, 75]
    assert len({rule.id for rule in model.rules}) == len(model.rules)
    dumped = model.model_dump(mode="json")
    assert load_model(yaml.safe_dump(dumped)) == model
    assert load_model(json.dumps(dumped)) == model
    assert load_model(dumped) == model


def test_load_model_reads_yaml_written_by_hand() -> None:
    model = load_model(
        """
        half_life_days: 14
        thresholds: [10]
        rules:
          - id: demo-requested
            event: Demo Requested
            points: 30
            max_times: 1
          - id: pricing
            type: page
            where: [{property: url, op: matches, value: "*/pricing*"}]
            points: 5
            max_points_per_period: 15
            period_days: 7
        """
    )
    assert [rule.id for rule in model.rules] == ["demo-requested", "pricing"]
    assert model.rules[1].where[0].holds({"url": "/en/pricing"})


@pytest.mark.parametrize("text", ["rules: [", "- just\n- a list", "42"])
def test_load_model_refuses_text_that_is_not_a_mapping(text: str) -> None:
    with pytest.raises(InvalidInput):
        load_model(text)


def test_events_need_a_time_zone_and_are_kept_in_utc() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        ScoringEvent(key="k", occurred_at=datetime(2025, 1, 1), type="track")
    madrid = timezone(timedelta(hours=1))
    local = ScoringEvent(key="k", occurred_at=datetime(2025, 1, 1, 1, tzinfo=madrid), type="track")
    assert local.occurred_at == T0
    assert local.occurred_at.tzinfo is UTC
