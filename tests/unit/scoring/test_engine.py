from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lealta.errors import Conflict, InvalidInput
from lealta.scoring.engine import (
    Applied,
    ScoreState,
    apply,
    current_score,
    needs_recompute,
    recompute,
)
from lealta.scoring.rules import Condition, ScoringEvent, ScoringModel, ScoringRule

# 2025-01-02 is a Thursday, like 1970-01-01: it starts a 7-day bucket (and a 1-day one).
T0 = datetime(2025, 1, 2, tzinfo=UTC)
DAY = timedelta(days=1)


def ev(
    at: datetime,
    name: str | None = "Thing",
    key: str | None = None,
    type_: str = "track",
    **props: Any,
) -> ScoringEvent:
    return ScoringEvent(
        key=key or f"{at.isoformat()}-{name}",
        occurred_at=at,
        type=type_,
        name=name,
        properties=props,
    )


def model(*rules: ScoringRule, **options: Any) -> ScoringModel:
    return ScoringModel(rules=list(rules), **options)


def run(scoring: ScoringModel, *events: ScoringEvent) -> Applied:
    return recompute(scoring, events)


def test_a_matching_event_adds_points_and_records_a_change() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=7))
    result = apply(scoring, ScoreState(), ev(T0, key="m1"))
    assert result.state == ScoreState(score=7.0, as_of=T0, times={"thing": 1}, last_key="m1")
    [change] = result.changes
    assert (change.rule_id, change.points, change.score_after) == ("thing", 7.0, 7.0)
    assert (change.occurred_at, change.key) == (T0, "m1")


def test_an_event_that_matches_nothing_leaves_the_state_untouched() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=7), half_life_days=10)
    state = apply(scoring, ScoreState(), ev(T0)).state
    result = apply(scoring, state, ev(T0 + 5 * DAY, name="Other"))
    assert result.state is state
    assert result.changes == []
    assert result.crossed == []


def test_every_matching_rule_scores_in_model_order() -> None:
    result = run(
        ScoringModel.default(), ev(T0, "Pricing", type_="page", url="https://s.io/pricing")
    )
    assert [(c.rule_id, c.points, c.score_after) for c in result.changes] == [
        ("pricing-page", 5.0, 5.0),
        ("page-view", 1.0, 6.0),
    ]


def test_decay_halves_the_score_every_half_life() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=10), half_life_days=30)
    state = apply(scoring, ScoreState(), ev(T0)).state
    assert current_score(scoring, state, T0) == 10.0
    assert current_score(scoring, state, T0 + 30 * DAY) == 5.0
    assert current_score(scoring, state, T0 + 60 * DAY) == 2.5
    assert current_score(scoring, state, T0 - 30 * DAY) == 10.0
    assert current_score(scoring, state, T0 + 10 * DAY, ndigits=2) == 7.94
    later = apply(scoring, state, ev(T0 + 30 * DAY)).state
    assert later.score == 15.0
    assert state.score == 10.0


def test_without_a_half_life_nothing_decays() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=10))
    state = run(scoring, ev(T0), ev(T0 + 400 * DAY)).state
    assert state.score == 20.0
    assert current_score(scoring, state, T0 + 4000 * DAY) == 20.0


def test_max_times_caps_a_rule_for_life() -> None:
    result = run(ScoringModel.default(), *(ev(T0 + i * DAY, "File Downloaded") for i in range(5)))
    assert [c.points for c in result.changes] == [10.0, 10.0, 10.0]
    assert result.state.times == {"file-downloaded": 3}
    assert result.state.as_of == T0 + 4 * DAY


def test_period_caps_award_partially_then_nothing_until_the_next_bucket() -> None:
    scoring = model(
        ScoringRule(id="visit", type="page", points=3, max_points_per_period=10, period_days=7)
    )
    in_week = [ev(T0 + i * timedelta(hours=30), type_="page") for i in range(5)]
    result = run(scoring, *in_week)
    assert [c.points for c in result.changes] == [3.0, 3.0, 3.0, 1.0]
    assert result.state.score == 10.0
    assert result.state.times == {"visit": 4}
    week = 20090 // 7  # days from 1970-01-01 to T0, in weeks
    assert result.state.period_points == {"visit": (week, 10.0)}

    last_second = run(scoring, *in_week, ev(T0 + 7 * DAY - timedelta(seconds=1), type_="page"))
    assert last_second.state.score == 10.0
    next_week = run(scoring, *in_week, ev(T0 + 7 * DAY, type_="page"))
    assert next_week.state.score == 13.0
    assert next_week.state.period_points == {"visit": (week + 1, 3.0)}


def test_the_default_page_view_cap_is_per_day() -> None:
    views = [ev(T0 + i * timedelta(minutes=30), type_="page", key=f"v{i:02d}") for i in range(30)]
    today = run(ScoringModel.default(), *views)
    assert [c.points for c in today.changes] == [1.0] * 10
    tomorrow = run(ScoringModel.default(), *views, ev(T0 + DAY, type_="page", key="next"))
    assert [c.points for c in tomorrow.changes] == [1.0] * 11


def test_negative_points_subtract_and_their_period_cap_limits_the_absolute_value() -> None:
    scoring = model(
        ScoringRule(id="thing", event="Thing", points=30),
        ScoringRule(
            id="bounce", event="Bounce", points=-4, max_points_per_period=10, period_days=1
        ),
    )
    events = [ev(T0, key="a")] + [ev(T0 + i * timedelta(hours=1), "Bounce") for i in range(1, 5)]
    result = run(scoring, *events)
    assert [c.points for c in result.changes] == [30.0, -4.0, -4.0, -2.0]
    assert result.state.score == 20.0
    assert result.state.period_points == {"bounce": (20090, 10.0)}


def test_unsubscribing_costs_points_and_the_default_model_has_no_floor() -> None:
    result = run(ScoringModel.default(), ev(T0, "Form Submitted"), ev(T0, "Unsubscribed", key="z"))
    assert [c.points for c in result.changes] == [15.0, -20.0]
    assert result.state.score == -5.0


def test_the_score_is_clamped_after_every_rule() -> None:
    scoring = model(
        ScoringRule(id="big", event="Thing", points=70),
        ScoringRule(id="drop", event="Drop", points=-50),
        max_score=100,
        min_score=-10,
    )
    result = run(scoring, ev(T0, key="a"), ev(T0, key="b"), ev(T0, "Drop", key="c"))
    assert [c.score_after for c in result.changes] == [70.0, 100.0, 50.0]
    lower = run(scoring, ev(T0, "Drop", key="a"), ev(T0, "Drop", key="b"))
    assert lower.state.score == -10.0


def test_thresholds_are_reported_once_when_crossed_upward() -> None:
    scoring = model(
        ScoringRule(id="thing", event="Thing", points=20),
        ScoringRule(id="drop", event="Drop", points=-30),
        thresholds=[25, 50, 75],
        half_life_days=30,
    )
    first = run(scoring, ev(T0, key="a"))
    assert first.crossed == []
    second = apply(scoring, first.state, ev(T0, key="b"))
    assert second.crossed == [25]
    third = apply(scoring, second.state, ev(T0, key="c"))
    assert third.crossed == [50]
    assert apply(scoring, third.state, ev(T0, "Drop", key="d")).crossed == []
    jump = apply(scoring, ScoreState(), ev(T0, key="a")).state
    big = model(ScoringRule(id="big", event="Thing", points=40), thresholds=[25, 50, 75])
    assert apply(big, jump, ev(T0, key="b")).crossed == [25, 50]
    # Decay counts: 40 points decay to 20 over a half-life, and +20 crosses 25 again.
    decayed = apply(scoring, second.state, ev(T0 + 30 * DAY, key="e"))
    assert decayed.state.score == 40.0
    assert decayed.crossed == [25]
    assert run(scoring, *(ev(T0, key=k) for k in "abc")).crossed == [25, 50]


def test_needs_recompute_for_events_at_or_before_the_last_applied_one() -> None:
    state = ScoreState(score=1.0, as_of=T0, last_key="m")
    assert not needs_recompute(ScoreState(), ev(T0))
    assert needs_recompute(state, ev(T0 - timedelta(microseconds=1), key="z"))
    assert needs_recompute(state, ev(T0, key="a"))
    assert needs_recompute(state, ev(T0, key="m"))
    assert not needs_recompute(state, ev(T0, key="n"))
    assert not needs_recompute(state, ev(T0 + timedelta(microseconds=1), key="a"))


def test_apply_refuses_an_event_that_needs_a_recompute() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=1))
    state = apply(scoring, ScoreState(), ev(T0, key="m")).state
    with pytest.raises(Conflict, match="recompute"):
        apply(scoring, state, ev(T0 - DAY, key="z"))


def test_recompute_sorts_by_time_then_key_and_counts_a_repeated_key_once() -> None:
    scoring = model(ScoringRule(id="thing", event="Thing", points=1, max_times=2))
    events = [ev(T0 + DAY, key="c"), ev(T0, key="b"), ev(T0, key="a"), ev(T0 + DAY, key="b")]
    result = recompute(scoring, events)
    assert [c.key for c in result.changes] == ["a", "b"]
    assert result.state.last_key == "c"
    assert result.state.as_of == T0 + DAY
    assert result.state.times == {"thing": 2}


def test_state_survives_json_exactly() -> None:
    scoring = ScoringModel.default()
    state = run(
        scoring,
        ev(T0, "Pricing", type_="page", url="/pricing"),
        ev(T0 + timedelta(days=3.3), "Email Clicked"),
    ).state
    assert state.score != round(state.score, 6)
    assert ScoreState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert ScoreState.from_dict(ScoreState().to_dict()) == ScoreState()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"score": "lots"},
        {"score": 1, "as_of": "yesterday"},
        {"score": 1, "as_of": "2025-01-01"},
    ],
)
def test_from_dict_refuses_what_is_not_a_state(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ScoreState.from_dict(data)


# --- properties -------------------------------------------------------------------------------

BOUNDED = ScoringModel(
    half_life_days=7.5,
    max_score=40,
    min_score=-5,
    thresholds=[10, 20, 30],
    rules=[
        ScoringRule(
            id="pricing",
            type="page",
            points=4.5,
            max_points_per_period=9,
            period_days=2,
            where=[Condition(property="url", op="contains", value="pricing")],
        ),
        ScoringRule(id="download", event="File Downloaded", points=7, max_times=2),
        ScoringRule(
            id="click",
            event="Email Clicked",
            points=0.7,
            max_times=5,
            max_points_per_period=1.5,
            period_days=3,
        ),
        ScoringRule(
            id="order",
            event="Order Completed",
            points=25,
            where=[Condition(property="total", op="gte", value=100)],
        ),
        ScoringRule(
            id="bounce", event="Unsubscribed", points=-9.25, max_points_per_period=12, period_days=5
        ),
    ],
)
NAMES = [
    "File Downloaded", "Email Clicked", "Form Submitted", "Webinar Attended", "Cart Abandoned",
    "Checkout Started", "order completed", "Unsubscribed", "Something Else", None,
]  # fmt: skip
MOMENTS = [T0 + timedelta(days=d) for d in (0, 0.5, 1, 7, 30)]


@st.composite
def histories(draw: st.DrawFn) -> list[ScoringEvent]:
    count = draw(st.integers(0, 25))
    events = []
    for index in range(count):
        at = draw(
            st.one_of(
                st.sampled_from(MOMENTS),
                st.integers(0, 365 * 86_400_000_000).map(
                    lambda us: T0 + timedelta(microseconds=us)
                ),
            )
        )
        properties: dict[str, Any] = {}
        if draw(st.booleans()):
            properties["url"] = draw(
                st.sampled_from(["https://s.io/pricing", "/blog", "/pricing/x"])
            )
        if draw(st.booleans()):
            properties["total"] = draw(st.sampled_from([150, "120.5", 20, "abc", 99.99, None]))
        events.append(
            ScoringEvent(
                key=draw(st.sampled_from("abc")) + f"{index:03d}",
                occurred_at=at,
                type=draw(st.sampled_from(["track", "page", "screen", "identify"])),
                name=draw(st.sampled_from(NAMES)),
                properties=properties,
            )
        )
    return events


scenarios = st.tuples(st.sampled_from([ScoringModel.default(), BOUNDED]), histories()).flatmap(
    lambda pair: st.tuples(st.just(pair[0]), st.just(pair[1]), st.permutations(pair[1]))
)
property_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@property_settings
@given(scenarios)
def test_incremental_scoring_in_arrival_order_equals_a_full_recompute(
    scenario: tuple[ScoringModel, list[ScoringEvent], list[ScoringEvent]],
) -> None:
    scoring, events, arrivals = scenario
    stored: dict[str, Any] = ScoreState().to_dict()
    seen: list[ScoringEvent] = []
    for event in arrivals:
        seen.append(event)
        state = ScoreState.from_dict(stored)
        if needs_recompute(state, event):
            state = recompute(scoring, seen).state
        else:
            state = apply(scoring, state, event).state
        assert state == recompute(scoring, seen).state  # after every arrival, not only the last
        stored = json.loads(json.dumps(state.to_dict()))

    final = ScoreState.from_dict(stored)
    expected = recompute(scoring, events).state
    assert final == expected
    now = T0 + 400 * DAY
    assert current_score(scoring, final, now) == current_score(scoring, expected, now)


@property_settings
@given(histories())
def test_the_score_stays_within_its_bounds(events: list[ScoringEvent]) -> None:
    result = recompute(BOUNDED, events)
    assert all(-5 <= change.score_after <= 40 for change in result.changes)
    assert -5 <= result.state.score <= 40
    for days in (0, 1, 100):
        assert -5 <= current_score(BOUNDED, result.state, T0 + days * DAY) <= 40


def test_a_score_adjusted_event_adds_its_points_like_a_rule() -> None:
    from datetime import UTC, datetime

    from lealta.scoring.engine import ADJUSTED, ScoreState, apply, recompute
    from lealta.scoring.rules import ScoringEvent, ScoringModel

    model = ScoringModel(rules=[], max_score=100)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        ScoringEvent("a", when, "track", ADJUSTED, {"points": 30}),
        ScoringEvent("b", when.replace(day=2), "track", ADJUSTED, {"points": "-5"}),
        ScoringEvent("c", when.replace(day=3), "track", ADJUSTED, {"points": "many"}),
    ]
    state = ScoreState()
    for event in events:
        state = apply(model, state, event).state
    assert state.score == 25
    assert recompute(model, events).state == state
