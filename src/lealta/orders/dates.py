"""Recognising how dates are written in an order file. Pure."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

# strftime format → the same format in Java's DateTimeFormatter syntax (used by Spark).
KNOWN_FORMATS: dict[str, str] = {
    "%Y%m%d": "yyyyMMdd",
    "%m/%d/%Y %H:%M": "M/d/yyyy H:mm",
    "%m/%d/%Y %H:%M:%S": "M/d/yyyy H:mm:ss",
    "%m/%d/%Y": "M/d/yyyy",
    "%d/%m/%Y %H:%M": "d/M/yyyy H:mm",
    "%d/%m/%Y %H:%M:%S": "d/M/yyyy H:mm:ss",
    "%d/%m/%Y": "d/M/yyyy",
    "%d.%m.%Y %H:%M": "d.M.yyyy H:mm",
    "%d.%m.%Y": "d.M.yyyy",
    "%d-%m-%Y": "d-M-yyyy",
    "%Y/%m/%d": "yyyy/M/d",
    "%Y/%m/%d %H:%M:%S": "yyyy/M/d H:mm:ss",
}

ISO = "iso"

_JAVA_CODES = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "mm", "%S": "ss", "%%": "%"}


# What the engines' casts accept: YYYY-MM-DD, optionally with a time (Python's fromisoformat
# would also take the compact 19970101, which the engines do not cast).
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _is_iso(text: str) -> bool:
    return bool(_ISO.match(text.strip()))


def _fits(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text.strip(), fmt)
    except ValueError:
        return False
    return True


def detect_format(samples: Iterable[str]) -> tuple[str | None, list[str]]:
    """The format that parses every sample: ``"iso"``, a strftime format, or ``None``.

    Returns the format and notes (e.g. day/month ambiguity). ISO 8601 wins when it fits;
    otherwise the first entry of :data:`KNOWN_FORMATS` that parses all samples.
    """
    values = [s for s in samples if s and s.strip()]
    if not values:
        return None, []
    if all(_is_iso(v) for v in values):
        return ISO, []
    fitting = [f for f in KNOWN_FORMATS if all(_fits(v, f) for v in values)]
    if not fitting:
        return None, []
    notes = []
    other = {"%m/": "%d/", "%d/": "%m/"}.get(fitting[0][:3])
    if other and any(f.startswith(other) for f in fitting[1:]):
        notes.append(
            f"dates fit both month/day and day/month; read them as {fitting[0]!r} "
            "(choose with --date-format)"
        )
    return fitting[0], notes


def to_java(fmt: str) -> str:
    """Translate a strftime format to Java's DateTimeFormatter syntax (for Spark)."""
    if fmt in KNOWN_FORMATS:
        return KNOWN_FORMATS[fmt]
    out = fmt
    for code, java in _JAVA_CODES.items():
        out = out.replace(code, java)
    return out
