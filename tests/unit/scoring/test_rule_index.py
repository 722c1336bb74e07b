"""The rule index finds exactly the rules a rule-by-rule scan finds, and an event it says
cannot score leaves every state as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lealta.lifecycle.engine import next_stage
from lealta.lifecycle.rules import LifecycleModel
from lealta.scoring.engine import ScoreState, apply, can_score
from lealta.scoring.rules import Condition, RuleIndex, ScoringEvent, ScoringModel, ScoringRule

T0 = datetime(2025, 1, 2, tzinfo=UTC)
NAMES = [
    "Order Completed",
    "order completed",
    "Signed Up",
    "SIGNED UP",
    "Checkout Started",
    "Email Clicked",
    "Score Adjusted",
    "Something Else",
    None,
]
TYPES = ["track", "TRACK", "page", "identify", "screen", "group"]

events = st.builds(
    lambda name, kind, total, url, email, points: ScoringEvent(
        key=f"k-{name}-{kind}-{total}",
        occurred_at=T0 + timedelta(hours=1),
        type=kind,
        name=name,
        properties={"total": total, "url": url, "email": email, "points": points},
    ),
    st.sampled_from(NAMES),
    st.sampled_from(TYPES),
    st.sampled_from([None, 50, 150, "120.5"]),
    st.sampled_from([None, "https://shop/pricing/x", "https://shop/home"]),
    st.sampled_from([None, "", "a@example.com"]),
    st.sampled_from([None, 5, "-3"]),
)

MODEL = ScoringModel.default()
MIXED = ScoringModel(
    rules=[
        ScoringRule(id="any-track", type="track", points=1),
        ScoringRule(
            id="big",
            events=["Order Completed", "Checkout Started"],
            points=5,
            where=[Condition(property="total", op="gte", value=100)],
        ),
        ScoringRule(id="anything", points=2),
        ScoringRule(id="pages", types=["page", "screen"], event="Something Else", points=3),
    ]
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_the_index_finds_the_rules_a_scan_finds_in_order(event: ScoringEvent) -> None:
    for model in (MODEL, MIXED):
        scanned = [rule for rule in model.rules if rule.matches(event)]
        assert model.matching(event) == scanned
        assert RuleIndex(model.rules).matching(event) == scanned


@settings(max_examples=300, deadline=None)
@given(events)
def test_an_event_that_cannot_score_changes_no_state(event: ScoringEvent) -> None:
    state = ScoreState(score=12.5, as_of=T0, times={"email-clicked": 2}, last_key="k")
    for model in (MODEL, MIXED):
        if not can_score(model, event):
            assert apply(model, state, event).state is state


@settings(max_examples=300, deadline=None)
@given(
    events,
    st.sampled_from([None, "Prospect", "Visitor", "Lead", "Customer", "Inactive"]),
    st.sampled_from([0, 1, 5]),
)
def test_lifecycle_moves_as_the_first_applicable_rule_of_a_scan(
    event: ScoringEvent, stage: str | None, orders: int
) -> None:
    model = LifecycleModel.default()
    facts: dict[str, Any] = {"orders": orders}
    current = model.initial if stage is None else stage
    here = model.index(current)
    expected = next(
        (
            rule
            for rule in model.rules
            if not (rule.from_stages and current not in rule.from_stages)
            and rule.to != current
            and (model.index(rule.to) >= here or rule.backward)
            and rule.applies(event, facts)
        ),
        None,
    )
    moved = next_stage(model, stage, event, facts)
    assert (moved.rule_id if moved else None) == (expected.id if expected else None)


def test_models_with_the_same_rules_are_equal_and_the_index_forgets_past_its_limit() -> None:
    assert ScoringModel.default() == ScoringModel.default()
    index = RuleIndex(MIXED.rules)
    index.LIMIT = 3
    for n in range(10):
        event = ScoringEvent(f"k{n}", T0, "track", f"Name {n}", {})
        assert [r.id for r in index.matching(event)] == ["any-track", "anything"]
    assert len(index._named) <= 3
