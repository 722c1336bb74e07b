"""Segment definitions in words, read from the same segment maps that assign the segments. Pure.

A rule's score range becomes a phrase by where it sits on the map's scale (5 = best): a range
whose middle lies in the top third reads as the good end ("bought recently", "often", "spent
the most"), in the bottom third as the poor end, otherwise as the middle; a range covering the
whole scale says nothing. The range itself follows in brackets, so the words never hide the
rule: "bought recently (R 4-5), often (F 4-5) and spent the most (M 4-5)".
"""

from __future__ import annotations

from collections.abc import Iterable

from lealta.segmentation.presets import PRESETS, preset_map
from lealta.segmentation.segments import SegmentMap, SegmentRule

# dimension -> (poor end, middle, good end)
_PHRASES: dict[str, tuple[str, str, str]] = {
    "r": ("last bought long ago", "last bought a while ago", "bought recently"),
    "f": ("rarely", "now and then", "often"),
    "m": ("spent little", "spent a middling amount", "spent the most"),
    "p": ("paid late", "paid a little late", "paid on time"),
}
_ONCE = "only once"
EN_DASH = "\u2013"  # between the scores of a range: "R 4\u20135"


def score_range(dim: str, low: int, high: int) -> str:
    """``R 4-5``, or ``R 5`` for a single score."""
    scores = str(low) if low == high else f"{low}{EN_DASH}{high}"
    return f"{dim.upper()} {scores}"


def range_phrase(dim: str, low: int, high: int, bins: int) -> str | None:
    """The words for one dimension's inclusive score range; ``None`` when it spans the scale."""
    if low == 1 and high == bins:
        return None
    if dim == "f" and high == 1:
        return f"{_ONCE} ({score_range(dim, low, high)})"
    middle = ((low + high) / 2 - 1) / (bins - 1)  # 0 = worst score, 1 = best
    poor, mid, good = _PHRASES[dim]
    words = good if middle > 2 / 3 else poor if middle < 1 / 3 else mid
    return f"{words} ({score_range(dim, low, high)})"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def rule_in_words(rule: SegmentRule, bins: int) -> str:
    """One rule as a sentence, e.g. "Bought recently (R 4-5), often (F 4-5) and spent the most
    (M 4-5)." Rules given by codes list them ("R, F, M codes 334, 443")."""
    parts = [
        phrase
        for dim in ("r", "f", "m", "p")
        if dim in rule.ranges
        for phrase in [range_phrase(dim, *rule.ranges[dim], bins)]
        if phrase
    ]
    if rule.codes:
        parts.append("R, F, M scores " + ", ".join(rule.codes))
    text = _join(parts) or "any scores"
    return text[0].upper() + text[1:] + "."


def definitions(segment_map: SegmentMap) -> dict[str, str]:
    """Every segment of the map in words; a name given by several rules joins them with "or",
    and the catch-all reads as what it is. Earlier rules win, so a later rule holds only the
    customers no earlier rule took (said once, for the catch-all)."""
    found: dict[str, list[str]] = {}
    for rule in segment_map.rules:
        found.setdefault(rule.name, []).append(rule_in_words(rule, segment_map.bins))
    words = {name: " Or: ".join(texts) for name, texts in found.items()}
    if segment_map.default not in words:
        words[segment_map.default] = "Every customer no other segment's rule takes."
    return words


def map_for(names: Iterable[str], preferred: str = "lealta") -> SegmentMap:
    """The shipped segment map that names all of ``names`` (the preferred one first): the map
    the latest scoring most likely used. The preferred map when none does."""
    wanted = set(names)
    order = [preferred, *(p for p in PRESETS if p != preferred)]
    for preset in order:
        candidate = preset_map(preset)
        if wanted <= set(candidate.segment_names):
            return candidate
    return preset_map(preferred)
