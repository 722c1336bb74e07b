"""Who sees a placement: audiences matched against contact views."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.conditions import ContactView
from lealta.errors import InvalidInput
from lealta.onsite.audience import EVERYONE, Audience, matches, parse


def person(**changes: Any) -> ContactView:
    values: dict[str, Any] = {
        "id": "c1",
        "tags": frozenset({"vip", "newsletter"}),
        "lists": {"club": "subscribed", "beta": "unsubscribed"},
        "stage": "customer",
        "score": 42.0,
        "segment": "Champions",
        "cluster": "Big spenders",
    }
    values.update(changes)
    return ContactView(**values)


def test_an_empty_audience_is_everyone_anonymous_visitors_included() -> None:
    assert parse({}) == parse(None) == EVERYONE
    assert matches(EVERYONE, None)
    assert matches(EVERYONE, person())
    assert matches(EVERYONE, ContactView(id="bare"))


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ({"segments": ["Champions", "Loyal"]}, True),
        ({"segments": ["At Risk"]}, False),
        ({"clusters": ["Big spenders"]}, True),
        ({"clusters": ["Bargain hunters"]}, False),
        ({"tags": ["vip"]}, True),
        ({"tags": ["wholesale", "newsletter"]}, True),
        ({"tags": ["wholesale"]}, False),
        ({"exclude_tags": ["vip"]}, False),
        ({"exclude_tags": ["wholesale"]}, True),
        ({"lists": ["club"]}, True),
        ({"lists": ["beta"]}, False),
        ({"lists": ["nowhere"]}, False),
        ({"stages": ["customer", "lead"]}, True),
        ({"stages": ["lead"]}, False),
        ({"score_min": 42}, True),
        ({"score_min": 42.5}, False),
        ({"score_max": 42}, True),
        ({"score_max": 41.9}, False),
        ({"score_min": 10, "score_max": 50}, True),
    ],
)
def test_each_criterion_is_tested_against_the_profile(
    audience: dict[str, Any], expected: bool
) -> None:
    assert matches(parse(audience), person()) is expected


def test_criteria_are_and_ed_values_within_one_are_or_ed() -> None:
    both = parse({"segments": ["Champions"], "tags": ["vip"]})
    assert matches(both, person())
    assert not matches(both, person(tags=frozenset()))
    assert not matches(both, person(segment="Hibernating"))


def test_a_profile_without_rfm_scores_is_in_no_segment() -> None:
    assert not matches(parse({"segments": ["Champions"]}), person(segment=None))


def test_anonymous_visitors_match_no_criterion_about_the_person() -> None:
    for audience in (
        {"segments": ["Champions"]},
        {"tags": ["vip"]},
        {"exclude_tags": ["vip"]},
        {"lists": ["club"]},
        {"stages": ["lead"]},
        {"score_max": 100},
    ):
        assert not matches(parse(audience), None), audience


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"score_min": 5, "score_max": 1}, "score_min must not be above score_max"),
        ({"tags": "vip"}, "tags"),
        ({"colour": ["red"]}, "colour"),
        ({"version": 2}, "version"),
        ({"tags": [""]}, "tags"),
    ],
)
def test_bad_audiences_are_refused_naming_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse(data)
    assert caught.value.field == "audience"


def test_an_audience_names_the_profile_parts_it_reads() -> None:
    assert EVERYONE.needs() == frozenset()
    assert parse({"segments": ["x"], "stages": ["lead"]}).needs() == {"rfm"}
    assert parse({"exclude_tags": ["x"], "lists": ["y"], "score_min": 1}).needs() == {
        "tags",
        "lists",
        "score",
    }


names = st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)


@given(tags=names, have=names, excluded=names)
def test_tags_match_exactly_when_one_is_shared_and_none_excluded(
    tags: list[str], have: list[str], excluded: list[str]
) -> None:
    audience = Audience(tags=tags, exclude_tags=excluded)
    expected = (not tags or bool(set(tags) & set(have))) and not set(excluded) & set(have)
    assert matches(audience, person(tags=frozenset(have))) is expected
