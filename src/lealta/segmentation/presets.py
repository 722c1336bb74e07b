"""Presets: other tools' RFM definitions, reproduced exactly on the same data.

``lealta``
    Lealta's own definitions (see :class:`~lealta.segmentation.options.RFMOptions`).
``r-rfm``
    R package ``rfm`` 0.3.0, ``rfm_table_order`` + ``rfm_segment`` with the package's example
    segments: one purchase = one row, monetary = total, quantile cut points of
    :func:`~lealta.segmentation.cutpoints.r_rfm_cut_points`, purchases after the analysis date kept.
``pymc``
    pymc-marketing ``rfm_segments``: one purchase = one day, monetary = mean spend per
    purchase day, recency measured to the last purchase day (inclusive observation end),
    quartile scores 1-4 of :func:`~lealta.segmentation.cutpoints.pymc_cut_points`, its default
    segment codes.
"""

from __future__ import annotations

from importlib import resources

from lealta.errors import InvalidInput
from lealta.segmentation.options import RFMOptions
from lealta.segmentation.segments import SegmentMap, parse_segment_map
from lealta.yaml_input import load_yaml

PRESETS = ("lealta", "r-rfm", "pymc")


def preset_map(name: str) -> SegmentMap:
    """The segment map a preset ships with."""
    text = (
        resources.files("lealta.segmentation").joinpath("maps", f"{name}.yaml").read_text("utf-8")
    )
    return parse_segment_map(load_yaml(text), f"{name} segment map")


def apply_preset(
    name: str, options: RFMOptions, segment_map: SegmentMap | None
) -> tuple[RFMOptions, SegmentMap]:
    """Options and segment map of preset ``name``.

    ``segment_map`` is the user's own map (``--segments``), which wins over the preset's;
    ``None`` takes the preset's map.
    """
    if name == "lealta":
        return options, segment_map or preset_map("lealta")
    if name == "r-rfm":
        changed = options.with_(
            purchase="row",
            monetary="sum",
            scheme="r-rfm",
            keep_after_as_of=True,
            cancel_pattern="",
        )
        return changed, segment_map or preset_map("r-rfm")
    if name == "pymc":
        changed = options.with_(
            purchase="day", monetary="mean", scheme="pymc", as_of_inclusive=True, cancel_pattern=""
        )
        return changed, segment_map or preset_map("pymc")
    raise InvalidInput(
        f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}", field="preset"
    )
