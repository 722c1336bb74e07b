"""The loyalty programme as data: what a valid document is, and errors that name the place."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest

from lealta.errors import InvalidInput
from lealta.loyalty.program import (
    LoyaltyProgram,
    StatusRules,
    dump,
    json_schema,
    load_program,
)


def programme(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "Friends",
        "eligibility": {"score_sum": 5},
        "tiers": [
            {"name": "Member", "benefits": [{"type": "free_shipping", "code": "SHIP"}]},
            {
                "name": "Gold",
                "qualify": {"any": [{"score_sum": 12}, {"spend": 500, "window_days": 365}]},
                "benefits": [{"type": "percent_discount", "code": "GOLD10", "percent": 10}],
            },
        ],
    }
    document.update(changes)
    return document


def refusal(document: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        load_program(document)
    return caught.value


def test_the_shipped_example_is_valid_and_has_four_tiers_lowest_first() -> None:
    text = resources.files("lealta.loyalty").joinpath("examples/genius.yaml").read_text("utf-8")
    program = load_program(text)
    assert program.tier_names() == ["Member", "Silver", "Gold", "Platinum"]
    assert program.windows() == [365, 730]
    assert program.status.max_steps_down == 1


def test_a_programme_reads_back_equal_from_its_dump_as_json() -> None:
    program = load_program(programme())
    assert load_program(json.dumps(dump(program))) == program


def test_the_json_schema_describes_tiers_rules_and_every_benefit_type() -> None:
    schema = json_schema()
    text = json.dumps(schema)
    assert schema["required"] == ["name", "tiers"]
    for key in ("score_sum", "window_days", "keep_until", "grace_days", "max_steps_down"):
        assert key in text
    for benefit in ("percent_discount", "shipping_discount", "birthday_gift", "early_access"):
        assert f'"const": "{benefit}"' in text


def test_a_wrong_value_inside_a_tier_names_the_tier_by_name_and_the_field() -> None:
    document = programme()
    document["tiers"][1]["benefits"][0]["percent"] = 150
    error = refusal(document)
    assert error.field == "tiers[Gold].benefits[0].percent"
    assert "tiers[Gold].benefits[0].percent: Input should be less than or equal to 100" in str(
        error
    )


def test_a_rule_needs_exactly_one_kind_and_the_error_says_which_rule() -> None:
    document = programme()
    document["tiers"][1]["qualify"]["any"][1] = {"spend": 500, "orders": 3}
    error = refusal(document)
    assert error.field == "tiers[Gold].qualify.any[1]"
    kinds = "score_sum, scores, orders, spend, points, all, any"
    assert f"exactly one of the keys {kinds}" in str(error)


def test_a_score_sum_outside_the_possible_sums_is_refused_with_the_range() -> None:
    document = programme()
    document["tiers"][1]["qualify"]["any"][0] = {"score_sum": 16}
    error = refusal(document)
    assert error.field == "tiers[Gold].qualify.any[0].score_sum"
    assert "16 is outside 3..15" in str(error)
    assert load_program(programme(dimensions="rfmp", tiers=document["tiers"]))


def test_a_payment_score_needs_an_rfmp_programme() -> None:
    document = programme(eligibility={"scores": {"r": 2, "p": 3}})
    error = refusal(document)
    assert error.field == "eligibility.scores.p"
    assert "needs dimensions: rfmp" in str(error)
    assert load_program({**document, "dimensions": "rfmp"}).dimensions == "rfmp"


def test_a_per_dimension_score_beyond_the_levels_is_refused() -> None:
    error = refusal(programme(levels=4, eligibility={"scores": {"m": 5}}))
    assert error.field == "eligibility.scores.m"
    assert "outside the scores 1..4" in str(error)


def test_only_the_lowest_tier_may_leave_out_its_rule() -> None:
    document = programme()
    document["tiers"].append({"name": "Platinum"})
    error = refusal(document)
    assert error.field == "tiers[Platinum].qualify"


def test_tier_names_are_unique_whatever_their_case() -> None:
    document = programme()
    document["tiers"][1]["name"] = "member"
    assert "duplicate tier name 'member'" in str(refusal(document))


def test_one_benefit_code_means_one_benefit_across_tiers() -> None:
    document = programme()
    document["tiers"][1]["benefits"].append({"type": "free_shipping", "code": "SHIP"})
    assert load_program(document)  # the very same benefit again: fine
    document["tiers"][1]["benefits"][-1] = {"type": "free_shipping", "code": "SHIP", "min_order": 9}
    error = refusal(document)
    assert error.field == "tiers[Gold].benefits[1].code"
    assert "means a different benefit in tier 'Member'" in str(error)


def test_shipping_discount_takes_a_percent_or_an_amount() -> None:
    document = programme()
    document["tiers"][0]["benefits"] = [{"type": "shipping_discount", "code": "S"}]
    assert "either percent or amount" in str(refusal(document))
    document["tiers"][0]["benefits"][0]["amount"] = 2.5
    assert load_program(document)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"best": 3}, "best"),
        ({"currency": "euro"}, "currency"),
        ({"tiers": []}, "tiers"),
        ({"colour": "gold"}, "colour"),
        ({"status": {"keep_days": 30, "keep_until": "end_of_year"}}, "status"),
        ({"status": {"grace_days": -1}}, "status.grace_days"),
        ({"eligibility": {"orders": 0}}, "eligibility.orders"),
        ({"eligibility": {"all": []}}, "eligibility.all"),
    ],
)
def test_each_bad_value_is_refused_naming_its_field(changes: dict[str, Any], field: str) -> None:
    assert refusal(programme(**changes)).field == field


def test_a_document_that_is_not_a_mapping_or_not_yaml_is_refused() -> None:
    assert "must be a mapping" in str(refusal("- just\n- a list\n"))
    assert "not valid YAML" in str(refusal("name: [unclosed\n"))


def test_lower_tiers_benefits_accumulate_and_a_same_type_benefit_replaces_them() -> None:
    document = programme()
    document["tiers"][0]["benefits"].append(
        {"type": "percent_discount", "code": "MEMBER5", "percent": 5}
    )
    program = load_program(document)
    assert [b.code for b in program.benefits_of("gold")] == ["SHIP", "GOLD10"]
    alone = load_program({**document, "benefits_accumulate": False})
    assert [b.code for b in alone.benefits_of("Gold")] == ["GOLD10"]
    with pytest.raises(InvalidInput, match="no tier 'Bronze'"):
        program.benefits_of("Bronze")


def test_a_tier_is_kept_for_days_or_to_the_end_of_a_year_once_reached() -> None:
    reached = dt.date(2025, 3, 15)
    assert StatusRules(keep_days=365).kept_until(reached) == dt.date(2026, 3, 14)
    assert StatusRules(keep_until="end_of_year").kept_until(reached) == dt.date(2025, 12, 31)
    assert StatusRules(keep_until="end_of_next_year").kept_until(reached) == dt.date(2026, 12, 31)
    assert StatusRules().kept_until(reached) is None


def test_thresholds_convert_between_the_two_score_conventions() -> None:
    five = LoyaltyProgram.model_validate(programme())
    one = LoyaltyProgram.model_validate(programme(best=1, tiers=[{"name": "All"}]))
    assert five.to_lealta_sum(12) == 12
    assert one.to_lealta_sum(6) == 12  # 1 = best: a sum of 6 or lower is 12 or higher
    assert one.to_lealta_score(2) == 4
    rfmp = LoyaltyProgram.model_validate(
        programme(best=1, dimensions="rfmp", tiers=[{"name": "A"}])
    )
    assert rfmp.to_lealta_sum(4) == 20
