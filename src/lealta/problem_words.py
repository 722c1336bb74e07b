"""Validation problems in a marketer's words: what pydantic says of a value (``String should
have at least 1 character``) becomes what a marketer reads beside the field (``Fill in the
tag``). Every console form words its problems here, so one field reads the same on every page.
Pure.

A form names its field by a *noun* in its own words: ``the tag``, ``at least one stage``, or
the field's label in quotes (``“At least (times)”``) where no plainer noun fits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lealta.errors import InvalidInput

Detail = Mapping[str, Any]
EMPTY = frozenset({"missing", "string_too_short", "too_short", "none_required"})
_WHOLE = frozenset({"int_parsing", "int_from_float", "int_type", "int_parsing_size"})
_NUMBER = frozenset({"float_parsing", "float_type", "decimal_parsing", "finite_number"})
_KIND_PREFIX = re.compile(r"^[a-z_]+ condition: ")
_BOUNDS = {  # error type: (its context's key, the words)
    "greater_than_equal": ("ge", "must be {} or more"),
    "less_than_equal": ("le", "must be {} or less"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than": ("lt", "must be less than {}"),
    "string_too_long": ("max_length", "must be at most {} characters"),
    "too_long": ("max_length", "may hold at most {}"),
}
# errors :func:`predicate` words itself (any other keeps pydantic's message, after a colon)
_KNOWN = frozenset(
    {*_WHOLE, *_NUMBER, *_BOUNDS, "string_pattern_mismatch", "extra_forbidden", "bool_parsing"}
)
# pydantic's own sentences, for messages that arrive as text only (their error types unknown)
_RAW = (
    (re.compile(r"String should have at least 1 character"), "must not be empty"),
    (re.compile(r"List should have at least 1 item after validation, not 0"), "needs at least one"),
    (re.compile(r"Field required"), "is required"),
    (re.compile(r"Input should be a valid integer[^;]*"), "must be a whole number"),
    (re.compile(r"Input should be a valid number[^;]*"), "must be a number"),
    (re.compile(r"Input should be greater than or equal to (\S+)"), r"must be \1 or more"),
    (re.compile(r"Input should be less than or equal to (\S+)"), r"must be \1 or less"),
    (re.compile(r"Input should be greater than (\S+)"), r"must be more than \1"),
    (re.compile(r"Input should be less than (\S+)"), r"must be less than \1"),
    (re.compile(r"String should have at most (\d+) characters?"), r"must be at most \1 characters"),
    (re.compile(r"Extra inputs are not permitted"), "is not a setting here"),
    (re.compile(r"Input should be ((?:'[^']*'(?:, | or )?)+)"), r"must be one of \1"),
    (re.compile(r"Value error, "), ""),
)


def sentence(
    detail: Detail, noun: str, *, choose: bool = False, names: Mapping[str, str] | None = None
) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a sentence about the
    field ``noun`` names; ``choose``: the field is a choice (a select), not typed in;
    ``names``: the form's labels of the settings a check's own message may name
    (``gte 9 is above lte 2`` → ``“At least” 9 is above “At most” 2``)."""
    kind = str(detail.get("type", ""))
    context = detail.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in context:
        return capital(labelled(_KIND_PREFIX.sub("", str(context["error"])), names or {}))
    if kind in EMPTY:
        return f"{'Choose' if choose else 'Fill in'} {noun}"
    if kind in ("literal_error", "enum"):
        expected = str(context.get("expected", "")).replace("'", "")
        return f"Choose {noun}: {expected}" if expected else f"Choose {noun}"
    if kind == "union_tag_invalid":
        return f"“{context.get('tag')}” is not a kind Lealta knows"
    separator = ": " if kind not in _KNOWN else " "
    return f"{capital(noun)}{separator}{predicate(detail)}"


def predicate(detail: Detail) -> str:
    """What is wrong with a value, without naming it (``must be 1 or more``): for a page that
    shows the field's name beside it (the journey editor's problem lists)."""
    kind = str(detail.get("type", ""))
    context = detail.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in context:
        return _KIND_PREFIX.sub("", str(context["error"]))
    if kind == "missing":
        return "is required"
    if kind == "too_short" and context.get("min_length"):
        return f"needs at least {_number(context['min_length'])}"
    if kind in EMPTY:
        return "must not be empty"
    if kind in _WHOLE:
        return "must be a whole number"
    if kind in _NUMBER:
        return "must be a number"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return words.format(_number(context.get(key)))
    if kind in ("literal_error", "enum"):
        return f"must be one of {context.get('expected')}"
    if kind == "union_tag_invalid":
        return f"{context.get('tag')!r} is not a kind Lealta knows"
    if kind == "string_pattern_mismatch":
        return "holds characters it may not hold"
    if kind == "extra_forbidden":
        return "is not a setting here"
    if kind == "bool_parsing":
        return "must be yes or no"
    return plain(str(detail.get("msg", "")))


def labelled(message: str, names: Mapping[str, str]) -> str:
    """``message`` with the settings it names (``gte``) called by their labels, in quotes."""
    if not names:
        return message
    pattern = r"\b(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b"
    return re.sub(pattern, lambda found: quoted(names[found[1]]), message)


def plain(message: str) -> str:
    """A message that reached the console as text only, with pydantic's phrases in plain
    words (``tag: String should have at least 1 character`` → ``tag: must not be empty``)."""
    for pattern, words in _RAW:
        message = pattern.sub(words, message)
    return message


def problem(exc: InvalidInput, noun: str, *, choose: bool = False) -> str:
    """An ``InvalidInput``'s first problem in words: its first validation error about the
    field ``noun`` names, or its message made plain."""
    if exc.details:
        return sentence(exc.details[0], noun, choose=choose)
    return capital(plain(str(exc)))


def _number(value: Any) -> Any:
    """``0.0`` as ``0``: a bound as a person writes it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def quoted(label: str) -> str:
    """A field's label as a noun: ``“At least (times)”``."""
    return f"“{label}”"


def capital(text: str) -> str:
    """``text`` starting with a capital (the rest untouched)."""
    return text[:1].upper() + text[1:]
