from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lealta.errors import InvalidInput
from lealta.lifecycle.engine import Transition, due_inactivity, next_stage
from lealta.lifecycle.rules import (
    InactivityRule,
    LifecycleModel,
    Stage,
    StageRule,
    load_model,
)
from lealta.scoring.rules import Condition, ScoringEvent

T0 = datetime(2025, 3, 1, tzinfo=UTC)
DEFAULT = LifecycleModel.default()


def ev(name: str | None = None, type_: str = "track", **properties: Any) -> ScoringEvent:
    return ScoringEvent(key="k", occurred_at=T0, type=type_, name=name, properties=properties)


PAGE = ev("Home", "page", url="/")
ORDER = ev("Order Completed", total=80)


def test_the_default_path_runs_prospect_visitor_lead_customer_loyal() -> None:
    steps = [
        (PAGE, {}, Transition(to="Visitor", from_="Prospect", rule_id="active")),
        (
            ev(None, "identify", email="ana@example.com"),
            {},
            Transition("Lead", "Visitor", "identified"),
        ),
        (ORDER, {"orders": 1}, Transition("Customer", "Lead", "ordered")),
        (ORDER, {"orders": 4}, None),
        (ORDER, {"orders": 5}, Transition("Loyal", "Customer", "loyal")),
        (ORDER, {"orders": 6}, None),
    ]
    current: str | None = None
    for event, facts, expected in steps:
        transition = next_stage(DEFAULT, current, event, facts)
        assert transition == expected
        if transition is not None:
            current = transition.to
    assert current == "Loyal"


def test_a_new_contact_starts_in_the_initial_stage() -> None:
    assert next_stage(DEFAULT, None, ev("Signed Up")) == Transition("Lead", "Prospect", "signed-up")
    assert next_stage(DEFAULT, "Prospect", ev("signed up", "screen")) == Transition(
        "Lead", "Prospect", "signed-up"
    )
    assert next_stage(DEFAULT, None, ev(None, "identify", first_name="Ana")) is None


@pytest.mark.parametrize(
    ("current", "event"),
    [
        ("Lead", PAGE),
        ("Customer", ev("Form Submitted")),
        ("Customer", ev(None, "identify", email="ana@example.com")),
        ("Loyal", ORDER),
        ("Loyal", PAGE),
        ("Visitor", PAGE),
    ],
)
def test_default_rules_never_move_a_contact_backward_or_in_place(
    current: str, event: ScoringEvent
) -> None:
    assert next_stage(DEFAULT, current, event, {"orders": 9}) is None


@pytest.mark.parametrize(
    "traits",
    [{}, {"email": ""}, {"email": "   "}, {"email": None}, {"phone": "+34600123456"}],
)
def test_an_identify_without_an_email_does_not_make_a_lead(traits: dict[str, Any]) -> None:
    assert next_stage(DEFAULT, "Visitor", ev(None, "identify", **traits)) is None


def test_loyalty_needs_the_orders_fact() -> None:
    assert next_stage(DEFAULT, "Customer", ORDER) is None
    assert next_stage(DEFAULT, "Customer", ORDER, {"orders": "7"}) == Transition(
        "Loyal", "Customer", "loyal"
    )
    assert next_stage(DEFAULT, "Lead", ORDER, {"orders": 12}) == Transition(
        "Loyal", "Lead", "loyal"
    )


def test_inactive_contacts_are_reactivated_by_activity_or_an_order() -> None:
    assert next_stage(DEFAULT, "Inactive", PAGE) == Transition("Visitor", "Inactive", "reactivated")
    assert next_stage(DEFAULT, "Inactive", ev("Form Submitted")) == Transition(
        "Visitor", "Inactive", "reactivated"
    )
    assert next_stage(DEFAULT, "Inactive", ORDER, {"orders": 9}) == Transition(
        "Customer", "Inactive", "reactivated-by-order"
    )
    assert next_stage(DEFAULT, "Inactive", ev(None, "identify", email="a@b.co")) is None


def small_model(
    *rules: StageRule, inactivity: list[InactivityRule] | None = None
) -> LifecycleModel:
    return LifecycleModel(
        stages=[Stage(name=name) for name in ("New", "Warm", "Hot", "Won")],
        initial="New",
        rules=list(rules),
        inactivity=inactivity or [],
    )


def test_from_stages_limits_where_a_rule_applies() -> None:
    lifecycle = small_model(StageRule(id="heat", to="Hot", event="Demo", from_stages=["Warm"]))
    assert next_stage(lifecycle, "New", ev("Demo")) is None
    assert next_stage(lifecycle, "Warm", ev("Demo")) == Transition("Hot", "Warm", "heat")


def test_the_first_rule_that_yields_a_move_wins() -> None:
    lifecycle = small_model(
        StageRule(
            id="won", to="Won", event="Paid", where=[Condition(property="total", op="gt", value=0)]
        ),
        StageRule(id="back-to-warm", to="Warm", event="Paid"),
        StageRule(id="hot", to="Hot", event="Paid"),
    )
    assert next_stage(lifecycle, "Warm", ev("Paid", total=10)) == Transition("Won", "Warm", "won")
    assert next_stage(lifecycle, "Warm", ev("Paid", total=0)) == Transition("Hot", "Warm", "hot")
    assert next_stage(lifecycle, "Hot", ev("Paid", total=0)) is None


def test_backward_rules_may_move_to_an_earlier_stage() -> None:
    lifecycle = small_model(StageRule(id="cooled", to="Warm", event="Refunded", backward=True))
    assert next_stage(lifecycle, "Won", ev("Refunded")) == Transition("Warm", "Won", "cooled")
    assert next_stage(lifecycle, "Warm", ev("Refunded")) is None
    assert next_stage(lifecycle, "New", ev("Refunded")) == Transition("Warm", "New", "cooled")


def test_requires_traits_reads_dotted_paths() -> None:
    lifecycle = small_model(
        StageRule(id="b2b", to="Hot", type="identify", requires_traits=["email", "company.name"])
    )
    assert next_stage(lifecycle, "New", ev(None, "identify", email="a@b.co")) is None
    assert next_stage(
        lifecycle, "New", ev(None, "identify", email="a@b.co", company={"name": "Acme"})
    ) == Transition("Hot", "New", "b2b")


def test_an_unknown_current_stage_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown stage 'Churned'"):
        next_stage(DEFAULT, "Churned", PAGE)
    with pytest.raises(InvalidInput, match="unknown stage 'Churned'"):
        due_inactivity(DEFAULT, "Churned", T0, T0)


CUSTOM_YAML = """
stages:
  - {name: Prospect}
  - {name: Visitor}
  - {name: Lead}
  - {name: MQL, description: Marketing-qualified lead}
  - {name: Customer}
initial: Prospect
rules:
  - id: qualified
    to: MQL
    events: [Demo Requested, Pricing Viewed]
    from_stages: [Lead]
  - id: pricing-page
    to: MQL
    type: page
    from_stages: [Lead]
    where:
      - {property: url, op: matches, value: "*/pricing*"}
  - {id: ordered, to: Customer, event: Order Completed}
  - {id: lead, to: Lead, type: identify, requires_traits: [email]}
  - {id: active, to: Visitor, types: [page, screen, track]}
inactivity:
  - {id: forgotten, to: Prospect, after_days: 365, from_stages: [Visitor, Lead, MQL]}
"""


def test_a_user_can_add_a_stage_in_yaml() -> None:
    lifecycle = load_model(CUSTOM_YAML)
    assert [stage.name for stage in lifecycle.stages][3] == "MQL"
    assert lifecycle.index("MQL") == 3
    assert next_stage(lifecycle, "Visitor", ev("Demo Requested")) is None
    assert next_stage(lifecycle, "Lead", ev("demo requested")) == Transition(
        "MQL", "Lead", "qualified"
    )
    pricing = ev("Pricing", "page", url="https://x.io/pricing/pro")
    assert next_stage(lifecycle, "Lead", pricing) == Transition("MQL", "Lead", "pricing-page")
    assert next_stage(lifecycle, "MQL", ORDER) == Transition("Customer", "MQL", "ordered")
    assert next_stage(lifecycle, "MQL", PAGE) is None
    assert due_inactivity(lifecycle, "MQL", T0, T0 + timedelta(days=365)) == Transition(
        "Prospect", "MQL", "forgotten"
    )


def test_the_default_model_survives_a_json_round_trip() -> None:
    assert load_model(DEFAULT.model_dump(mode="json")) == DEFAULT
    assert [stage.name for stage in DEFAULT.stages] == [
        "Prospect",
        "Visitor",
        "Lead",
        "Customer",
        "Loyal",
        "Inactive",
    ]


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "stages": [{"name": "Prospect"}, {"name": "Lead"}],
        "rules": [{"id": "lead", "to": "Lead", "event": "Signed Up"}],
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (document(rules=[{"id": "mql", "to": "MQL"}]), "rule 'mql': unknown stage 'MQL'"),
        (
            document(rules=[{"id": "x", "to": "Lead", "from_stages": ["Visitor"]}]),
            "rule 'x': unknown stage 'Visitor'",
        ),
        (
            document(inactivity=[{"id": "gone", "to": "Inactive", "after_days": 30}]),
            "rule 'gone': unknown stage 'Inactive'",
        ),
        (document(initial="Visitor"), "initial stage 'Visitor' is not a stage"),
        (
            document(stages=[{"name": "Prospect"}, {"name": "Prospect"}]),
            "duplicate stage 'Prospect'",
        ),
        (document(stages=[]), "stages"),
        (
            document(inactivity=[{"id": "lead", "to": "Lead", "after_days": 30}]),
            "duplicate rule id 'lead'",
        ),
        (
            document(inactivity=[{"id": "now", "to": "Lead", "after_days": 0}]),
            "rule 'now'.*after_days",
        ),
        (
            document(
                rules=[
                    {
                        "id": "bad",
                        "to": "Lead",
                        "where": [{"property": "u", "op": "regex", "value": "["}],
                    }
                ]
            ),
            "rule 'bad'.*invalid regex",
        ),
        (document(rules=[{"id": "typo", "to": "Lead", "evnt": "Signed Up"}]), "rule 'typo'.*evnt"),
        (document(colour="red"), "colour"),
    ],
)
def test_invalid_models_are_refused_naming_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_model(data)
    with pytest.raises(ValidationError, match=message):
        LifecycleModel.model_validate(data)


def test_the_inactivity_sweep_moves_quiet_contacts() -> None:
    last = T0
    assert due_inactivity(DEFAULT, "Lead", last, last + timedelta(days=180)) == Transition(
        "Inactive", "Lead", "inactive"
    )
    assert (
        due_inactivity(DEFAULT, "Lead", last, last + timedelta(days=180) - timedelta(seconds=1))
        is None
    )
    assert due_inactivity(DEFAULT, "Prospect", last, last + timedelta(days=999)) is None
    assert due_inactivity(DEFAULT, None, last, last + timedelta(days=999)) is None
    assert due_inactivity(DEFAULT, "Inactive", last, last + timedelta(days=999)) is None
    assert due_inactivity(DEFAULT, "Loyal", None, last + timedelta(days=999)) is None


def test_the_first_due_inactivity_rule_wins_and_may_move_backward() -> None:
    lifecycle = small_model(
        inactivity=[
            InactivityRule(id="cold", to="New", after_days=90, from_stages=["Hot"]),
            InactivityRule(id="cooling", to="Warm", after_days=30),
        ]
    )
    assert due_inactivity(lifecycle, "Hot", T0, T0 + timedelta(days=40)) == Transition(
        "Warm", "Hot", "cooling"
    )
    assert due_inactivity(lifecycle, "Hot", T0, T0 + timedelta(days=90)) == Transition(
        "New", "Hot", "cold"
    )
    assert due_inactivity(lifecycle, "Warm", T0, T0 + timedelta(days=400)) is None


# --- properties -------------------------------------------------------------------------------

NAMES = ["Signed Up", "Order Completed", "Demo", "Paid", "Refunded", None]
TYPES = ["page", "screen", "track", "identify"]


@st.composite
def models(draw: st.DrawFn, backward: bool = False) -> LifecycleModel:
    names = [f"S{i}" for i in range(draw(st.integers(2, 6)))]
    rules = []
    for index in range(draw(st.integers(0, 8))):
        rules.append(
            StageRule(
                id=f"r{index}",
                to=draw(st.sampled_from(names)),
                events=draw(st.lists(st.sampled_from([n for n in NAMES if n]), max_size=2)),
                types=draw(st.lists(st.sampled_from(TYPES), max_size=2)),
                from_stages=draw(st.lists(st.sampled_from(names), max_size=3, unique=True)),
                requires_traits=draw(st.sampled_from([[], ["email"]])),
                min_orders=draw(st.sampled_from([None, 1, 3])),
                backward=backward and draw(st.booleans()),
            )
        )
    return LifecycleModel(
        stages=[Stage(name=name) for name in names],
        initial=draw(st.sampled_from(names)),
        rules=rules,
    )


events = st.builds(
    lambda name, type_, email: ev(name, type_, **({"email": email} if email else {})),
    st.sampled_from(NAMES),
    st.sampled_from(TYPES),
    st.sampled_from([None, "", "ana@example.com"]),
)
steps = st.lists(st.tuples(events, st.integers(0, 6)), max_size=30)
quick = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(models(), steps)
def test_without_backward_rules_the_stage_index_never_decreases(
    lifecycle: LifecycleModel, history: list[tuple[ScoringEvent, int]]
) -> None:
    current: str | None = None
    for event, orders in history:
        transition = next_stage(lifecycle, current, event, {"orders": orders})
        if transition is not None:
            assert lifecycle.index(transition.to) > lifecycle.index(transition.from_)
            current = transition.to


@quick
@given(st.one_of(models(backward=True), st.just(DEFAULT)), steps)
def test_only_backward_rules_move_back_and_no_rule_moves_in_place(
    lifecycle: LifecycleModel, history: list[tuple[ScoringEvent, int]]
) -> None:
    current: str | None = None
    backward = {rule.id for rule in lifecycle.rules if rule.backward}
    for event, orders in history:
        transition = next_stage(lifecycle, current, event, {"orders": orders})
        if transition is not None:
            assert transition.to != transition.from_
            if lifecycle.index(transition.to) < lifecycle.index(transition.from_):
                assert transition.rule_id in backward
            current = transition.to


def _first_move(
    lifecycle: LifecycleModel, current: str | None, event: ScoringEvent, orders: int
) -> Transition | None:
    """The documented rule, every rule tested in order (no index, nothing kept)."""
    stage = lifecycle.initial if current is None else current
    for rule in lifecycle.rules:
        allowed = not rule.from_stages or stage in rule.from_stages
        onward = rule.to != stage and (
            lifecycle.index(rule.to) > lifecycle.index(stage) or rule.backward
        )
        if allowed and onward and rule.applies(event, {"orders": orders}):
            return Transition(to=rule.to, from_=stage, rule_id=rule.id)
    return None


@quick
@given(st.one_of(models(backward=True), st.just(DEFAULT)), steps)
def test_the_rules_kept_per_stage_move_as_testing_every_rule_would(
    lifecycle: LifecycleModel, history: list[tuple[ScoringEvent, int]]
) -> None:
    current: str | None = None
    for event, orders in history:  # the same model: what it keeps serves the later steps
        transition = next_stage(lifecycle, current, event, {"orders": orders})
        assert transition == _first_move(lifecycle, current, event, orders)
        stage = lifecycle.initial if current is None else current
        named = [rule.id for rule in lifecycle.named(event)]
        moving = [rule.id for rule in lifecycle.moving(event, stage)]
        assert moving == [rule for rule in named if rule in moving]  # in order, a subset
        if transition is not None:
            current = transition.to
