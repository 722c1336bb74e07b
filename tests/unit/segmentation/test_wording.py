"""Segment definitions in words, read from the shipped segment maps."""

from __future__ import annotations

from lealta.segmentation.presets import preset_map
from lealta.segmentation.segments import SegmentRule
from lealta.segmentation.wording import definitions, map_for, range_phrase, rule_in_words


def test_champions_read_as_their_rule() -> None:
    words = definitions(preset_map("lealta"))
    assert words["Champions"] == (
        "Bought recently (R 4\u20135), often (F 4\u20135) and spent the most (M 4\u20135)."
    )
    assert words["At Risk"] == "Last bought long ago (R 1\u20132) and often (F 3\u20135)."
    assert words["New Customers"] == "Bought recently (R 5) and only once (F 1)."
    assert words["Need Attention"] == (
        "Last bought a while ago (R 3) and now and then (F 2\u20133)."
    )


def test_every_segment_of_every_shipped_map_has_words() -> None:
    for preset in ("lealta", "r-rfm", "pymc"):
        segment_map = preset_map(preset)
        words = definitions(segment_map)
        assert set(words) == set(segment_map.segment_names)
        assert all(text.endswith(".") and len(text) > 10 for text in words.values())


def test_a_range_over_the_whole_scale_says_nothing_and_codes_are_listed() -> None:
    assert range_phrase("m", 1, 5, 5) is None
    assert rule_in_words(SegmentRule("X", {"m": (1, 5)}), 5) == "Any scores."
    coded = rule_in_words(SegmentRule("Top", {}, codes=("444", "443")), 4)
    assert coded == "R, F, M scores 444, 443."
    assert definitions(preset_map("pymc"))["Other"].startswith("Every customer no other")


def test_the_map_is_the_one_naming_every_segment() -> None:
    assert map_for(["Champions", "Hibernating"]).name == "lealta-default"
    assert map_for(["Champions", "Loyal Customers"]).name.startswith("r-rfm")
    assert map_for(["Premium Customer", "Other"]).name.startswith("pymc")
    assert map_for(["Something else"]).name == "lealta-default"
