"""Points arithmetic (earning, caps, returns, expiry) and the programme's ``points:`` section."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources

import pytest

from lealta.errors import InvalidInput
from lealta.loyalty import points as rules
from lealta.loyalty.program import BonusRule, load_program
from lealta.loyalty.program import dump as dump_program

D = dt.date
TIERS = [{"name": "Member"}, {"name": "Gold", "qualify": {"orders": 3}}]


def programme(**points: object) -> dict[str, object]:
    return {"name": "Shop", "tiers": TIERS, "points": points}


# -- earning ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "per_unit", "multiplier", "expected"),
    [
        ("99.99", 1, 1, 99),  # floored, never rounded up
        ("100.00", 1, 1.5, 150),
        ("10.10", 2, 1.25, 25),  # 25.25
        ("0.99", 1, 1, 0),
        ("0", 1, 2, 0),
        ("-20", 1, 1, 0),  # a negative total earns nothing rather than taking points
        ("33.33", 3, 1, 99),  # exact decimals: 99.99, not 100 by float error
    ],
)
def test_an_order_earns_its_amount_times_the_rate_and_multiplier_floored(
    amount: str, per_unit: float, multiplier: float, expected: int
) -> None:
    assert rules.order_points(Decimal(amount), per_unit, multiplier) == expected


def test_bonus_points_are_cut_to_what_is_left_under_each_cap() -> None:
    rule = BonusRule(event="Review", points=50, max_per_day=80, max_per_month=120, max_lifetime=200)
    assert rules.bonus_points(rule, rules.Used()) == 50
    assert rules.bonus_points(rule, rules.Used(day=50, month=50, ever=50)) == 30  # day cap
    assert rules.bonus_points(rule, rules.Used(day=0, month=100, ever=100)) == 20  # month cap
    assert rules.bonus_points(rule, rules.Used(day=0, month=0, ever=190)) == 10  # lifetime
    assert rules.bonus_points(rule, rules.Used(day=80, month=80, ever=80)) == 0
    assert rules.bonus_points(rule, rules.Used(day=0, month=0, ever=250)) == 0  # never negative


def test_a_rule_without_caps_gives_its_points_every_time() -> None:
    rule = BonusRule(event="App Opened", points=5)
    assert rules.bonus_points(rule, rules.Used(10**6, 10**6, 10**6)) == 5
    assert rules.Used(1, 2, 3).plus(5) == rules.Used(6, 7, 8)


# -- returns ----------------------------------------------------------------------------------


def test_a_full_return_takes_back_every_point_the_order_earned() -> None:
    assert rules.take_back(100, 0, None, 500) == rules.TakeBack(100, 0)
    assert rules.take_back(100, 0, Decimal("1.2"), 500) == rules.TakeBack(100, 0)


def test_a_return_never_takes_the_balance_below_zero_and_says_what_was_lost() -> None:
    assert rules.take_back(100, 0, None, 30) == rules.TakeBack(30, 70)
    assert rules.take_back(100, 0, None, 0) == rules.TakeBack(0, 100)


def test_a_partial_refund_takes_back_its_share_rounded_up_and_never_twice() -> None:
    assert rules.take_back(100, 0, Decimal("0.25"), 500) == rules.TakeBack(25, 0)
    assert rules.take_back(99, 0, Decimal("0.5"), 500) == rules.TakeBack(50, 0)  # 49.5 -> 50
    # a second partial refund of 90 % after 50 were taken: only the 49 left
    assert rules.take_back(99, 50, Decimal("0.9"), 500) == rules.TakeBack(49, 0)
    assert rules.take_back(100, 100, None, 500) == rules.TakeBack(0, 0)


# -- expiry -----------------------------------------------------------------------------------

CREDITS = [
    rules.Credit(100, D(2026, 3, 1)),
    rules.Credit(50, D(2026, 4, 1)),
    rules.Credit(70, None),  # never expires
    rules.Credit(30, D(2026, 6, 1)),
]


def test_points_expire_on_their_day_with_spending_taken_from_the_soonest_first() -> None:
    assert rules.expiring_by(CREDITS, 0, D(2026, 2, 28)) == 0
    assert rules.expiring_by(CREDITS, 0, D(2026, 3, 1)) == 100
    assert rules.expiring_by(CREDITS, 40, D(2026, 3, 1)) == 60
    assert rules.expiring_by(CREDITS, 40, D(2026, 4, 1)) == 110
    assert rules.expiring_by(CREDITS, 160, D(2026, 4, 1)) == 0  # spent more than was due
    assert rules.expiring_by(CREDITS, 160, D(2026, 6, 1)) == 20


def test_what_expires_soon_is_listed_per_day_after_what_is_already_due() -> None:
    assert rules.expiring_between(CREDITS, 40, D(2026, 2, 1), D(2026, 4, 30)) == [
        (D(2026, 3, 1), 60),
        (D(2026, 4, 1), 50),
    ]
    # on 2 March the 60 due on 1 March are the expiry sweep's, not "soon"
    assert rules.expiring_between(CREDITS, 40, D(2026, 3, 2), D(2026, 6, 30)) == [
        (D(2026, 4, 1), 50),
        (D(2026, 6, 1), 30),
    ]
    assert rules.expiring_between(CREDITS, 200, D(2026, 2, 1), D(2026, 12, 31)) == []


def test_the_points_held_per_expiry_day_after_spending_the_soonest_first() -> None:
    assert rules.held_lots(CREDITS, 0) == [
        rules.Credit(100, D(2026, 3, 1)),
        rules.Credit(50, D(2026, 4, 1)),
        rules.Credit(30, D(2026, 6, 1)),
        rules.Credit(70, None),
    ]
    assert rules.held_lots(CREDITS, 120) == [
        rules.Credit(30, D(2026, 4, 1)),
        rules.Credit(30, D(2026, 6, 1)),
        rules.Credit(70, None),
    ]
    assert rules.held_lots(CREDITS, 200) == [rules.Credit(50, None)]
    assert rules.held_lots(CREDITS, 250) == []
    same_day = [rules.Credit(10, D(2026, 3, 1)), rules.Credit(5, D(2026, 3, 1))]
    assert rules.held_lots(same_day, 0) == [rules.Credit(15, D(2026, 3, 1))]


def test_the_expiry_day_and_value_of_points() -> None:
    assert rules.expiry_day(D(2026, 1, 31), 30) == D(2026, 3, 2)
    assert rules.expiry_day(D(2026, 1, 31), None) is None
    assert rules.value_of(1234, 0.01) == Decimal("12.34")
    assert rules.value_of(3, 0.005) == Decimal("0.02")


# -- the programme's points section -----------------------------------------------------------


def test_the_shipped_example_has_points_that_read_back_equal() -> None:
    text = resources.files("lealta.loyalty").joinpath("examples/genius.yaml").read_text("utf-8")
    program = load_program(text)
    found = program.points
    assert found is not None
    assert found.multiplier("gold") == 1.5
    assert found.multiplier("Member") == 1.0
    assert found.multiplier(None) == 1.0
    assert found.option("eur5").value == 5
    assert [b.label for b in found.bonuses][-1] == "advocacy"
    assert load_program(dump_program(program)) == program


def test_a_programme_without_points_has_none() -> None:
    assert load_program({"name": "Shop", "tiers": TIERS}).points is None


@pytest.mark.parametrize(
    ("points", "field", "words"),
    [
        ({"multipliers": {"Platinum": 2}}, "points.multipliers.Platinum", "no tier"),
        ({"multipliers": {"Gold": 200}}, "points.multipliers.Gold", "0 to 100"),
        ({"per_unit": 0}, "points.per_unit", "greater than 0"),
        ({"expire_after_days": 0}, "points.expire_after_days", "greater than or equal to 1"),
        (
            {"redeem": [{"code": "A", "points": 10, "kind": "percent", "value": 150}]},
            "points.redeem[0]",
            "at most 100",
        ),
        (
            {"redeem": [{"code": "A", "points": 10, "kind": "amount"}]},
            "points.redeem[0]",
            "above 0",
        ),
        (
            {
                "redeem": [
                    {"code": "A", "points": 10, "kind": "free_shipping"},
                    {"code": "a", "points": 20, "kind": "free_shipping"},
                ]
            },
            "points.redeem[1].code",
            "twice",
        ),
        (
            {"bonuses": [{"event": "Review", "points": 5}, {"event": "Review", "points": 9}]},
            "points.bonuses[1].name",
            "name them apart",
        ),
        ({"bonuses": [{"event": "Review", "points": 0}]}, "points.bonuses[0].points", "1"),
        ({"colour": "red"}, "points.colour", "Extra inputs"),
    ],
)
def test_a_bad_points_section_is_refused_naming_its_place(
    points: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_program(programme(**points))
    assert caught.value.field == field
    assert words in str(caught.value)


def test_an_unknown_redemption_option_is_refused_naming_the_options() -> None:
    program = load_program(
        programme(redeem=[{"code": "EUR5", "points": 500, "kind": "amount", "value": 5}])
    )
    assert program.points is not None
    with pytest.raises(InvalidInput, match="the options are EUR5") as caught:
        program.points.option("EUR50")
    assert caught.value.field == "option"


def test_the_json_schema_documents_the_points_section() -> None:
    from lealta.loyalty.program import json_schema

    schema = json_schema()
    defs = schema["$defs"]
    assert {"PointsRules", "RedeemOption", "BonusRule"} <= set(defs)
    assert "per currency unit" in defs["PointsRules"]["properties"]["per_unit"]["description"]
