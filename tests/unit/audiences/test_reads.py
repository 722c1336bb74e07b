"""What a condition reads and what a batch of tracked messages may change
(lealta.conditions.reads): the index the live path uses to skip audiences."""

from __future__ import annotations

from typing import Any

from lealta.conditions import parse
from lealta.conditions.reads import (
    ATTRIBUTES,
    CONSENT,
    EVERYTHING,
    LISTS,
    LOYALTY,
    ORDERS,
    PREDICTION,
    RFM,
    SCORE,
    STAGE,
    TAGS,
    Reads,
    changed_by,
    reads,
)


def _reads(data: dict[str, Any], **saved: dict[str, Any]) -> Reads:
    conditions = {name: parse(value) for name, value in saved.items()}
    return reads(parse(data), conditions.get)


def test_events_and_facts_through_all_any_not() -> None:
    found = _reads(
        {
            "kind": "all",
            "conditions": [
                {"kind": "event_count", "event": "Product Viewed", "gte": 2},
                {"kind": "not", "condition": {"kind": "tag", "tag": "vip"}},
                {
                    "kind": "any",
                    "conditions": [
                        {"kind": "message", "template": "welcome", "action": "clicked"},
                        {"kind": "bought", "category": "shoes"},
                        {"kind": "rfm", "r": {"gte": 4}},
                        {"kind": "loyalty_points", "gte": 10},
                    ],
                },
            ],
        }
    )
    assert found == Reads(
        events=frozenset({"product viewed", "email clicked"}),
        facts=frozenset({TAGS, ORDERS, RFM, LOYALTY}),
    )


def test_a_prediction_is_read_and_no_tracked_message_changes_it() -> None:
    found = _reads({"kind": "prediction", "churn_band": "high"})
    assert found == Reads(facts=frozenset({PREDICTION}))
    assert not found.meets(changed_by([{"type": "track", "event": "Order Completed"}]))


def test_an_audience_reads_what_the_audience_it_names_reads_transitively() -> None:
    inner = {"kind": "attribute", "name": "plan", "op": "equals", "value": "gold"}
    middle = {
        "kind": "any",
        "conditions": [
            {"kind": "audience", "audience": "Gold"},
            {"kind": "stage", "in": ["customer"]},
        ],
    }
    found = _reads({"kind": "audience", "audience": "Middle"}, Gold=inner, Middle=middle)
    assert found == Reads(facts=frozenset({ATTRIBUTES, STAGE}))


def test_unknown_audience_or_a_cycle_reads_everything() -> None:
    assert _reads({"kind": "audience", "audience": "Nobody"}).everything
    loop = {"kind": "audience", "audience": "A"}
    assert _reads(loop, A={"kind": "audience", "audience": "B"}, B=loop).everything
    assert reads(parse({"kind": "audience", "audience": "A"})).everything  # nothing to resolve


def test_an_unknown_kind_reads_everything() -> None:
    class Later:  # a kind added after this module (e.g. a prediction)
        kind = "later"

    assert reads(Later()).everything
    tree = parse({"kind": "all", "conditions": [{"kind": "tag", "tag": "vip"}]})
    object.__setattr__(tree, "conditions", [*tree.conditions, Later()])  # type: ignore[attr-defined]
    assert reads(tree).everything


def test_a_batch_of_views_changes_its_event_names_and_the_rule_driven_facts() -> None:
    changes = changed_by(
        [
            {"type": "track", "event": "Page Viewed"},
            {"type": "page", "name": "Home"},
            {"type": "page"},
        ]
    )
    assert changes == Reads(
        events=frozenset({"page viewed", "home"}), facts=frozenset({CONSENT, STAGE, SCORE})
    )
    assert not _reads({"kind": "event_count", "event": "Product Viewed"}).meets(changes)
    assert not _reads({"kind": "tag", "tag": "vip"}).meets(changes)
    assert _reads({"kind": "score", "gte": 10}).meets(changes)
    assert _reads({"kind": "event_count", "event": "PAGE VIEWED"}).meets(changes)


def test_orders_unsubscribes_and_profile_messages() -> None:
    assert {ORDERS, LOYALTY} <= changed_by([{"type": "track", "event": "order_completed"}]).facts
    assert LISTS in changed_by([{"type": "track", "event": "Unsubscribed"}]).facts
    for kind in ("identify", "alias", "group", "something new"):
        assert changed_by([{"type": "track", "event": "x"}, {"type": kind}]) == EVERYTHING
    assert changed_by([]) == Reads()
    assert not Reads().meets(Reads())
    assert EVERYTHING.meets(Reads())
