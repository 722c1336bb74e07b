"""HTML building blocks of the report, and the reading of values from data frames.

Every text goes through :func:`escaped`, so a value from the data cannot inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import numpy.typing as npt
import pandas as pd

from lealta.report.format import DASH


def is_missing(value: object) -> bool:
    """Whether ``value`` is None, ``pd.NA`` or a float NaN."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def is_filled(value: object) -> bool:
    """Whether ``value`` is present and not blank."""
    return not is_missing(value) and bool(str(value).strip())


def plain_text(value: object) -> str:
    """Unescaped text of a value, for the SVG helpers, which escape it themselves."""
    return DASH if is_missing(value) else str(value)


def escaped(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute; missing values become a dash."""
    return DASH if is_missing(value) else escape(str(value))


def numeric(values: pd.Series) -> npt.NDArray[np.float64]:
    """``values`` as floats; anything that is not a number becomes NaN."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def numeric_column(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    """A numeric column as floats; all NaN when the frame lacks it."""
    return numeric(frame[column]) if column in frame.columns else np.full(len(frame), np.nan)


def valid_scores(frame: pd.DataFrame, column: str, bins: int) -> npt.NDArray[np.float64]:
    """Score column as floats, with NaN wherever the value is not a whole score in 1..bins."""
    values = numeric(frame[column])
    return np.where(np.isin(values, np.arange(1, bins + 1)), values, np.nan)


def section(heading: str, content: str, lede: str = "") -> str:
    """A ``<section>`` of the page, under its heading and an optional introduction."""
    intro = f'<p class="lede">{escaped(lede)}</p>' if lede else ""
    return f"<section>\n<h2>{escaped(heading)}</h2>{intro}\n{content}\n</section>\n"


def figure_row(*charts: tuple[str, str]) -> str:
    """Charts side by side, each under its small heading."""
    inner = "".join(
        f"<figure><h3>{escaped(heading)}</h3>{chart}</figure>" for heading, chart in charts
    )
    return f'<div class="row">{inner}</div>'


def table_head(labels: Sequence[str]) -> str:
    """A table's ``<thead>``; every column but the first holds numbers."""
    cells = "".join(
        f'<th scope="col"{" class=num" if k else ""}>{escaped(label)}</th>'
        for k, label in enumerate(labels)
    )
    return f"<thead><tr>{cells}</tr></thead>"


def number_cell(text: str) -> str:
    """A right-aligned table cell holding a formatted number."""
    return f'<td class="num">{escaped(text)}</td>'
