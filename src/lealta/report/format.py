"""Number formats of the report and its charts; a missing value always reads as an en dash."""

from __future__ import annotations

import math
from collections.abc import Callable

Formatter = Callable[[float], str]

DASH = "\u2013"  # stands for a missing value


def format_number(value: float, decimals: int = 0) -> str:
    """Format with thousands separators; a missing or infinite value becomes an en dash."""
    return f"{value:,.{decimals}f}" if math.isfinite(value) else DASH


def format_percent(fraction: float, decimals: int = 1) -> str:
    """Format a fraction (0.231) as a percentage ("23.1%")."""
    return f"{fraction * 100:,.{decimals}f}%" if math.isfinite(fraction) else DASH


def format_compact(value: float) -> str:
    """Format with about three significant digits and a k/M/B suffix, for tight spaces."""
    if not math.isfinite(value):
        return DASH
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        # Compare with the rounded value, so that 999,960 reads "1M" and not "1000k".
        if abs(value) >= unit * 0.9995 or unit == 1.0:
            scaled = value / unit
            digits = 0 if abs(scaled) >= 99.95 else 1 if abs(scaled) >= 9.995 else 2
            text = f"{scaled:.{digits}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    raise AssertionError("unreachable: the last unit always matches")
