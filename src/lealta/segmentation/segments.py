"""Named segments from scores: a segment map is data (YAML), interpreted by pure code.

A map is an ordered list of rules; the first rule whose score ranges all contain the
customer's scores names the segment, and ``default`` names everyone else. Scores are compared
on the map's scale (``bins``, 5 by default) with 5 = best, whatever the output convention.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lealta.errors import InvalidInput
from lealta.yaml_input import load_yaml

DIMS = ("r", "f", "m", "p")


@dataclass(frozen=True)
class SegmentRule:
    """A named rule: inclusive ``(low, high)`` score ranges for some dimensions."""

    name: str
    ranges: dict[str, tuple[int, int]]
    description: str = ""
    codes: tuple[str, ...] = ()

    def matches(self, scores: dict[str, int]) -> bool:
        """Whether ``scores`` (dimension → score) fall within every range of the rule, and
        their R, F, M code is one of ``codes`` when the rule lists codes."""
        in_ranges = all(lo <= scores.get(d, lo) <= hi for d, (lo, hi) in self.ranges.items())
        if not self.codes:
            return in_ranges
        code = "".join(str(scores.get(d, "")) for d in ("r", "f", "m"))
        return in_ranges and code in self.codes


@dataclass(frozen=True)
class SegmentMap:
    """An ordered list of rules, a catch-all name and the score scale they are written for."""

    name: str
    rules: tuple[SegmentRule, ...]
    bins: int = 5
    default: str = "Others"

    @property
    def segment_names(self) -> list[str]:
        """Segment names in map order (each once), then the catch-all."""
        names = list(dict.fromkeys(r.name for r in self.rules))
        return [*names, self.default] if self.default not in names else names

    def assign(self, scores: dict[str, int]) -> str:
        """The segment of one combination of scores (pure Python; used by checks and tests)."""
        return next((r.name for r in self.rules if r.matches(scores)), self.default)

    def coverage(
        self, dims: tuple[str, ...] = ("r", "f", "m")
    ) -> tuple[list[tuple[int, ...]], list[str]]:
        """Score combinations left to the catch-all, and rule names no combination reaches."""
        uncovered: list[tuple[int, ...]] = []
        reached: set[str] = set()
        for combo in itertools.product(range(1, self.bins + 1), repeat=len(dims)):
            scores = dict(zip(dims, combo, strict=True))
            rule = next((r for r in self.rules if r.matches(scores)), None)
            if rule is None:
                uncovered.append(combo)
            else:
                reached.add(rule.name)
        unreachable = [n for n in dict.fromkeys(r.name for r in self.rules) if n not in reached]
        return uncovered, unreachable


def parse_segment_map(data: Any, origin: str = "segment map") -> SegmentMap:
    """Validate a segment map given as parsed YAML/JSON data."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise InvalidInput(f"{origin}: expected a mapping with a 'segments' list", field="segments")
    bins = data.get("bins", 5)
    if not isinstance(bins, int) or not 2 <= bins <= 10:
        raise InvalidInput(f"{origin}: bins must be a whole number from 2 to 10", field="bins")
    rules = tuple(_rule(item, i, bins, origin) for i, item in enumerate(data["segments"], 1))
    if not rules:
        raise InvalidInput(f"{origin}: the map has no segments", field="segments")
    default = str(data.get("default", "Others"))
    return SegmentMap(str(data.get("name", origin)), rules, bins, default)


def _rule(item: Any, index: int, bins: int, origin: str) -> SegmentRule:
    where = f"{origin}: segment #{index}"
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise InvalidInput(f"{where} needs a name", field="segments")
    unknown = set(item) - {"name", "description", "codes", *DIMS}
    if unknown:
        raise InvalidInput(
            f"{where} ({item['name']}): unknown keys {sorted(unknown)}", field="segments"
        )
    ranges: dict[str, tuple[int, int]] = {}
    for dim in DIMS:
        if dim not in item:
            continue
        value = item[dim]
        ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
        if not ok or not 1 <= value[0] <= value[1] <= bins:
            raise InvalidInput(
                f"{where} ({item['name']}): {dim} must be [low, high] "
                f"with 1 <= low <= high <= {bins}",
                field="segments",
            )
        ranges[dim] = (value[0], value[1])
    codes = tuple(str(c) for c in item.get("codes", []))
    for code in codes:
        if len(code) != 3 or not all(c.isdigit() and 1 <= int(c) <= bins for c in code):
            raise InvalidInput(
                f"{where} ({item['name']}): code {code!r} must be three scores (R, F, M) "
                f"from 1 to {bins}, e.g. '{bins}{bins}{bins}'",
                field="segments",
            )
    if not ranges and not codes:
        raise InvalidInput(
            f"{where} ({item['name']}): give score ranges or codes", field="segments"
        )
    return SegmentRule(item["name"], ranges, str(item.get("description", "")), codes)


def load_segment_map(path: str | Path | None = None) -> SegmentMap:
    """Load a segment map from a YAML file, or Lealta's default map when ``path`` is ``None``."""
    if path is None:
        text = (
            resources.files("lealta.segmentation")
            .joinpath("maps", "lealta.yaml")
            .read_text("utf-8")
        )
        return parse_segment_map(load_yaml(text), "default segment map")
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"{file}: no such segment map", field="segments") from exc
    try:
        data = load_yaml(text, field="segments")
    except InvalidInput as exc:
        raise InvalidInput(f"{file}: {exc}", field="segments", line=exc.line) from None
    return parse_segment_map(data, str(file))


def rescale(score: Any, from_bins: int, to_bins: int) -> Any:
    """Map a score on ``1..from_bins`` onto ``1..to_bins`` (ibis or int), keeping 1 and top."""
    if from_bins == to_bins:
        return score
    return ((score - 1) * (to_bins - 1) / (from_bins - 1)).round().cast("int64") + 1


def segment_expression(table: Any, segment_map: SegmentMap, levels: dict[str, int]) -> Any:
    """An ibis expression naming each row's segment from its (highest = best) score columns."""
    import ibis

    scores = {
        dim: rescale(table[f"{dim}_score"], levels[dim], segment_map.bins)
        for dim in DIMS
        if f"{dim}_score" in table.columns
    }
    cases = []
    for rule in segment_map.rules:
        conditions = [
            scores[dim].between(lo, hi) for dim, (lo, hi) in rule.ranges.items() if dim in scores
        ]
        if rule.codes:
            conditions.append(
                ibis.or_(
                    *(
                        ibis.and_(*(scores[d] == int(c) for d, c in zip("rfm", code, strict=True)))
                        for code in rule.codes
                    )
                )
            )
        condition = ibis.and_(*conditions) if conditions else ibis.literal(True)
        cases.append((condition, rule.name))
    return ibis.cases(*cases, else_=segment_map.default)
