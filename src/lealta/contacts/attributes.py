"""Typed custom attributes (pure): declared types and the coercion of incoming values.

A contact's attributes are a JSON object. An attribute may be *declared* with a type; values
of a declared attribute are checked and stored in a canonical form (dates as ``YYYY-MM-DD``,
numbers as numbers …). Undeclared attributes are kept as given. Identity fields (email, phone,
user id) are identifiers, not attributes, and never land here.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from lealta.errors import InvalidInput
from lealta.moments import utc_in_range

TYPES = ("string", "number", "integer", "boolean", "date", "datetime", "timezone", "language")
# Shipped declarations: what a shop expects to filter and personalise on.
BUILT_IN: dict[str, str] = {
    "first_name": "string",
    "last_name": "string",
    "name": "string",
    "birthday": "date",
    "city": "string",
    "country": "string",
    "language": "language",
    "timezone": "timezone",
    "company": "string",
}
IDENTITY_TRAITS = ("email", "phone", "userId", "user_id", "anonymousId", "id")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f"}


def check_name(name: str) -> str:
    """An attribute name: letters, digits and underscores, not starting with a digit."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"attribute name {name!r} must be letters, digits or _ (at most 100)", field=name
        )
    return name


def coerce(name: str, kind: str, value: Any) -> Any:
    """``value`` in the canonical form of ``kind``; ``None`` clears the attribute.

    Raises
    ------
    InvalidInput
        Naming the attribute, when the value does not fit the type.
    """
    if value is None:
        return None
    try:
        return _COERCERS[kind](value)
    except (ValueError, TypeError, zoneinfo.ZoneInfoNotFoundError):
        raise InvalidInput(
            f"attribute {name!r} must be a {kind}; got {value!r}", field=f"attributes.{name}"
        ) from None


def coerce_all(
    values: Mapping[str, Any], declared: Mapping[str, str], *, strict: bool = True
) -> tuple[dict[str, Any], dict[str, str]]:
    """Coerce every value; returns (good values, problems by name).

    With ``strict`` the first problem raises instead (API writes); tracked traits use
    ``strict=False`` so one bad trait does not lose the others.
    """
    good: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in values.items():
        if name in IDENTITY_TRAITS:
            continue
        kind = declared.get(name) or BUILT_IN.get(name)
        try:
            check_name(name)
            good[name] = coerce(name, kind, value) if kind else value
        except InvalidInput as error:
            if strict:
                raise
            problems[name] = str(error)
    return good, problems


def _string(value: Any) -> str:
    if isinstance(value, dict | list):
        raise TypeError(value)
    return str(value)


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int | float):
        return value
    number = float(str(value).strip())
    return int(number) if number.is_integer() and "." not in str(value) else number


def _integer(value: Any) -> int:
    number = _number(value)
    if float(number) != int(number):
        raise ValueError(value)
    return int(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return dt.date.fromisoformat(text[:10]).isoformat()


def _datetime(value: Any) -> str:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return utc_in_range(moment).isoformat()


def _timezone(value: Any) -> str:
    text = str(value).strip()
    if not text or text.startswith(("/", ".")):
        raise ValueError(value)
    zoneinfo.ZoneInfo(text)
    return text


def _language(value: Any) -> str:
    text = str(value).strip().replace("_", "-")
    if not _LANGUAGE.match(text):
        raise ValueError(value)
    return text


_COERCERS = {
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "timezone": _timezone,
    "language": _language,
}
