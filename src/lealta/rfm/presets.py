"""Presets: definitions of other tools, reproduced exactly (filled in below)."""

from __future__ import annotations

from lealta.errors import InvalidInput
from lealta.rfm.options import RFMOptions
from lealta.rfm.segments import SegmentMap

PRESETS = ("lealta",)


def apply_preset(
    name: str, options: RFMOptions, segment_map: SegmentMap
) -> tuple[RFMOptions, SegmentMap]:
    """Options and segment map of preset ``name`` (``lealta`` keeps them as given)."""
    if name == "lealta":
        return options, segment_map
    raise InvalidInput(f"unknown preset {name!r}", field="preset")
