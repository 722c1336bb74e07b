"""Validation problems in the console's words: pydantic's errors become sentences that name
the field as the form does, and pydantic's sentences met as text are made plain."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError

from lealta import problem_words as say
from lealta.errors import InvalidInput


class Rule(BaseModel):
    tag: str = Field(min_length=1, max_length=5)
    times: int = Field(default=1, ge=1)
    within: float = Field(default=1.0, gt=0)
    tiers: list[str] = Field(default=["a"], min_length=1)


def _error(**data: Any) -> dict[str, Any]:
    try:
        Rule.model_validate({"tag": "vip", **data})
    except ValidationError as exc:
        found: dict[str, Any] = exc.errors()[0]
        return found
    raise AssertionError("valid")


@pytest.mark.parametrize(
    ("data", "noun", "choose", "expected"),
    [
        ({"tag": ""}, "the tag", False, "Fill in the tag"),
        ({"tag": ""}, "the audience", True, "Choose the audience"),
        ({"tiers": []}, "at least one tier", False, "Fill in at least one tier"),
        ({"tag": "toolong"}, "the tag", False, "The tag must be at most 5 characters"),
        ({"times": "x"}, "“At least”", False, "“At least” must be a whole number"),
        ({"times": 0}, "“At least”", False, "“At least” must be 1 or more"),
        ({"within": 0}, "“Days”", False, "“Days” must be more than 0"),
    ],
)
def test_a_pydantic_error_reads_as_a_sentence_about_the_field(
    data: dict[str, Any], noun: str, choose: bool, expected: str
) -> None:
    assert say.sentence(_error(**data), noun, choose=choose) == expected


def test_a_missing_field_is_to_fill_in() -> None:
    with pytest.raises(ValidationError) as caught:
        Rule.model_validate({})
    assert say.sentence(caught.value.errors()[0], "the tag") == "Fill in the tag"


def test_a_check_of_its_own_speaks_with_the_form_labels() -> None:
    detail = {"type": "value_error", "ctx": {"error": ValueError("score condition: gte 9 is "
              "above lte 2")}, "loc": ("score",), "msg": "Value error, …"}  # fmt: skip
    names = {"gte": "At least", "lte": "At most"}
    assert say.sentence(detail, "the rule", names=names) == "“At least” 9 is above “At most” 2"


def test_a_choice_outside_its_options_names_them() -> None:
    detail = {"type": "literal_error", "ctx": {"expected": "'granted', 'denied' or 'pending'"}}
    assert say.sentence(detail, "the decision", choose=True) == (
        "Choose the decision: granted, denied or pending"
    )


def test_pydantic_sentences_met_as_text_are_made_plain() -> None:
    assert say.plain("tag: String should have at least 1 character") == "tag: must not be empty"
    assert say.plain("in: List should have at least 1 item after validation, not 0") == (
        "in: needs at least one"
    )
    assert say.plain("gte: Input should be greater than or equal to 0") == "gte: must be 0 or more"


def test_an_invalid_input_is_worded_from_its_details_or_else_its_message() -> None:
    detail = _error(tag="")
    assert say.problem(InvalidInput("x", details=[detail]), "the name") == "Fill in the name"
    assert say.problem(InvalidInput("name: Field required"), "the name") == "Name: is required"
