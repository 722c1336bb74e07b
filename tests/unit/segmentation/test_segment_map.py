from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lealta.errors import InvalidInput
from lealta.segmentation.presets import preset_map
from lealta.segmentation.segments import load_segment_map, parse_segment_map

ELEVEN = [
    "Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
]  # fmt: skip


def test_the_default_map_has_the_eleven_segments() -> None:
    assert sorted(load_segment_map().segment_names[:-1]) == sorted(ELEVEN)


def test_the_default_map_covers_every_score_combination_and_reaches_every_segment() -> None:
    uncovered, unreachable = load_segment_map().coverage()
    assert uncovered == []
    assert unreachable == []


def test_the_default_map_ranks_the_extremes_sensibly() -> None:
    segments = load_segment_map()
    assert segments.assign({"r": 5, "f": 5, "m": 5}) == "Champions"
    assert segments.assign({"r": 1, "f": 1, "m": 1}) == "Lost"
    assert segments.assign({"r": 1, "f": 5, "m": 5}) == "Can't Lose Them"
    assert segments.assign({"r": 5, "f": 1, "m": 1}) == "New Customers"


def test_every_combination_gets_exactly_one_segment() -> None:
    segments = load_segment_map()
    names = {
        segments.assign(dict(zip("rfm", combo, strict=True)))
        for combo in itertools.product(range(1, 6), repeat=3)
    }
    assert names == set(ELEVEN)


def test_the_first_matching_rule_wins() -> None:
    segment_map = parse_segment_map(
        {"segments": [{"name": "A", "r": [1, 5]}, {"name": "B", "r": [1, 5]}]}
    )
    assert segment_map.assign({"r": 3, "f": 1, "m": 1}) == "A"
    assert segment_map.coverage()[1] == ["B"]


def test_unmatched_scores_fall_to_the_catch_all() -> None:
    segment_map = parse_segment_map({"default": "Rest", "segments": [{"name": "Top", "r": [5, 5]}]})
    assert segment_map.assign({"r": 4, "f": 5, "m": 5}) == "Rest"


def test_codes_rules_match_whole_codes() -> None:
    pymc = preset_map("pymc")
    assert pymc.assign({"r": 3, "f": 3, "m": 4}) == "Premium Customer"
    assert pymc.assign({"r": 4, "f": 4, "m": 2}) == "Other"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "'segments' list"),
        ({"segments": [{"r": [1, 2]}]}, "needs a name"),
        ({"segments": [{"name": "X", "r": [3, 2]}]}, "low <= high"),
        ({"segments": [{"name": "X", "r": [1, 9]}]}, "high <= 5"),
        ({"segments": [{"name": "X", "z": [1, 2]}]}, "unknown keys"),
        ({"segments": [{"name": "X", "codes": ["19"]}]}, "three scores"),
        ({"segments": [{"name": "X"}]}, "ranges or codes"),
        ({"bins": 1, "segments": []}, "bins"),
    ],
)
def test_a_broken_map_is_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_segment_map(data)


def test_a_map_file_that_is_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("segments: [", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_segment_map(path)
