"""Reading JSON documents in SQL as the per-person side reads them in Python.

A property path (``category``, ``product.category``, ``products.0.sku``) is looked up in a
document column the way :func:`lealta.scoring.rules.property_value` looks it up in a dict: a
top-level key written with dots wins when present, else the dots walk objects and digits
index lists. Each value is read three ways: its kind (``text``, ``number``, ``true``,
``false``, ``array``, ``object``; NULL when absent or JSON null), its text (of a string) and
its number (of a number, or of a string that reads as one, as
:func:`lealta.scoring.rules.as_number` reads it). Operators are then tested with
:func:`property_test`, mirroring :class:`lealta.scoring.rules.Condition`.

Limits of the SQL side (the per-person side has none): ``regex`` is not available (SQLite has
no regular expressions; :func:`property_test` refuses it), ``matches`` takes ``*`` and ``?``
but no ``[…]`` sets, keys may not contain a double quote, digits in a path always index a
list on SQLite, and on SQLite a numeric string with an exponent (``"1e3"``) is not read as a
number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    type_coerce,
)

from lealta.conditions.dialects import Either, boolean, sure
from lealta.errors import InvalidInput
from lealta.scoring.rules import Condition, as_number

# as_number's pattern, for PostgreSQL's regular expressions
_NUMERIC_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


@dataclass(frozen=True)
class JsonValue:
    """A JSON value in SQL: its kind, its text (strings) and its number (numbers and
    numeric strings), each NULL when it does not apply."""

    kind: ColumnElement[str]
    text: ColumnElement[str]
    number: ColumnElement[float]


def _steps(path: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def _sqlite_path(steps: list[str | int], field: str) -> str:
    parts = ["$"]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif '"' in step:
            raise InvalidInput(
                f"{field}: a property name with a double quote ({step!r}) cannot be tested here",
                field=field,
            )
        else:
            parts.append(f'."{step}"')
    return "".join(parts)


def _sqlite_number_text(text: Any) -> ColumnElement[float]:
    """A string's number when it reads as one (see the module docstring), else NULL."""
    trimmed = func.trim(text)
    reads = and_(
        trimmed != "",
        trimmed.op("NOT GLOB")("*[^0-9.+-]*"),
        trimmed.op("GLOB")("*[0-9]*"),
        trimmed.op("NOT GLOB")("?*[+-]*"),
        func.length(trimmed) - func.length(func.replace(trimmed, ".", "")) <= 1,
    )
    return case((reads, cast(trimmed, Float)), else_=null())


def _sqlite_value(kind_raw: Any, atom: Any) -> tuple[Any, Any, Any]:
    kind = case(
        (kind_raw.in_(["integer", "real"]), "number"),
        (kind_raw == "null", null()),
        else_=kind_raw,
    )
    text = case((kind_raw == "text", type_coerce(atom, String)), else_=null())
    number = case(
        (kind_raw.in_(["integer", "real"]), type_coerce(atom, Float)),
        (kind_raw == "text", _sqlite_number_text(atom)),
        else_=null(),
    )
    return kind, text, number


def _pg_value(value: Any, text_of: Any) -> tuple[Any, Any, Any]:
    typeof = func.jsonb_typeof(value)
    kind = case(
        (typeof == "string", "text"),
        (typeof == "boolean", case((text_of == "true", "true"), else_="false")),
        (typeof.in_(["number", "array", "object"]), typeof),
        else_=null(),
    )
    trimmed = func.btrim(text_of)
    number = case(
        (typeof == "number", cast(text_of, Float)),
        (
            and_(typeof == "string", trimmed.op("~")(_NUMERIC_TEXT)),
            cast(trimmed, Float),
        ),
        else_=null(),
    )
    text = case((typeof == "string", text_of), else_=null())
    return kind, text, number


def _at(
    document: Any, steps: list[str | int], field: str
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    path = literal(_sqlite_path(steps, field), String)
    lite = _sqlite_value(func.json_type(document, path), func.json_extract(document, path))
    keys = [literal(str(step), String) for step in steps]
    pg = _pg_value(
        func.jsonb_extract_path(document, *keys), func.jsonb_extract_path_text(document, *keys)
    )
    return lite, pg


def _join(lite: tuple[Any, ...], pg: tuple[Any, ...]) -> JsonValue:
    return JsonValue(
        kind=Either(sqlite=lite[0], postgresql=pg[0], type_=String()),
        text=Either(sqlite=lite[1], postgresql=pg[1], type_=String()),
        number=Either(sqlite=lite[2], postgresql=pg[2], type_=Float()),
    )


def json_value(document: Any, path: str, *, field: str = "condition") -> JsonValue:
    """The value at ``path`` in the JSON ``document`` column (see the module docstring)."""
    lite, pg = _at(document, _steps(path), field)
    if "." not in path:
        return _join(lite, pg)
    whole_lite, whole_pg = _at(document, [path], field)
    here_lite = func.json_type(document, literal(_sqlite_path([path], field), String)).is_not(None)
    here_pg = document.op("?")(literal(path, String))
    pick_lite = tuple(case((here_lite, w), else_=s) for w, s in zip(whole_lite, lite, strict=True))
    pick_pg = tuple(case((here_pg, w), else_=s) for w, s in zip(whole_pg, pg, strict=True))
    return _join(pick_lite, pick_pg)


def element_value(*, sqlite_type: Any, sqlite_atom: Any, pg_value: Any) -> JsonValue:
    """The value of an array element: on SQLite ``json_each``'s ``type`` and ``atom``, on
    PostgreSQL a ``jsonb`` element."""
    text_of = func.jsonb_build_array(pg_value).op("->>")(literal(0))  # the element as text
    return _join(_sqlite_value(sqlite_type, sqlite_atom), _pg_value(pg_value, text_of))


def same(value: JsonValue, expected: Any, field: str) -> ColumnElement[bool]:
    """``value`` equals ``expected`` as :func:`lealta.scoring.rules._same` has it: booleans
    only equal booleans, text equals text exactly, and numbers equal numbers or numeric
    text."""
    if isinstance(expected, bool):
        return sure(value.kind == ("true" if expected else "false"))
    if isinstance(expected, str):
        # ``text`` is NULL unless the value is text: no test of ``kind`` (a CASE per row)
        tests = [value.text == expected]
        number = as_number(expected)
        if number is not None:
            tests.append(and_(value.kind == "number", value.number == number))
        return sure(or_(*tests))
    number = as_number(expected)
    if number is None:
        raise InvalidInput(
            f"{field}: only text, numbers and true/false can be compared here, not {expected!r}",
            field=field,
        )
    return sure(and_(value.kind.in_(["number", "text"]), value.number == number))


def _glob_like(pattern: str, field: str) -> str:
    if "[" in pattern:
        raise InvalidInput(f"{field}: matches takes * and ? here, not [sets]", field=field)
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _position(text: Any, part: str) -> ColumnElement[bool]:
    return boolean(
        sqlite=func.instr(text, literal(part, String)) > 0,
        postgresql=func.strpos(text, literal(part, String)) > 0,
    )


def _array_has(document: Any, path: str, expected: Any, field: str) -> ColumnElement[bool]:
    """The list at ``path`` has a member equal to ``expected``."""
    steps = _steps(path)
    lite_path = literal(_sqlite_path(steps, field), String)
    lite_array = case(
        (func.json_type(document, lite_path) == "array", func.json_extract(document, lite_path)),
        else_="[]",
    )
    lite_each = func.json_each(lite_array).table_valued("type", "atom")
    keys = [literal(str(step), String) for step in steps]
    at = func.jsonb_extract_path(document, *keys)
    pg_array = case((func.jsonb_typeof(at) == "array", at), else_=func.jsonb_build_array())
    pg_each = func.jsonb_array_elements(pg_array).table_valued("value")
    lite_member = element_value(
        sqlite_type=lite_each.c.type, sqlite_atom=lite_each.c.atom, pg_value=null()
    )
    pg_member = element_value(sqlite_type=null(), sqlite_atom=null(), pg_value=pg_each.c.value)
    return boolean(
        sqlite=exists(
            select(true()).select_from(lite_each).where(same(lite_member, expected, field))
        ),
        postgresql=exists(
            select(true()).select_from(pg_each).where(same(pg_member, expected, field))
        ),
    )


def property_test(
    document: Any, test: Condition, *, field: str = "condition"
) -> ColumnElement[bool]:
    """``test`` (an event-property or attribute condition) on the JSON ``document`` column;
    never NULL, so ``NOT`` of it is exact."""
    value = json_value(document, test.property, field=field)
    op, expected = test.op, test.value
    if op == "exists":
        present = value.kind.is_not(None)
        return sure(present if expected is not False else ~present)
    if op == "equals":
        return same(value, expected, field)
    if op == "not_equals":
        return sure(and_(value.kind.is_not(None), ~same(value, expected, field)))
    if op == "in":
        return sure(or_(false(), *(same(value, item, field) for item in expected)))
    if op in ("gt", "gte", "lt", "lte"):
        limit = as_number(expected)
        compare = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__"}[op]
        return sure(getattr(value.number, compare)(limit))
    return _text_test(document, value, test, field)


def _text_test(document: Any, value: JsonValue, test: Condition, field: str) -> ColumnElement[bool]:
    op, expected = test.op, test.value
    is_text = value.kind == "text"
    if op == "contains":
        in_text = (
            and_(is_text, _position(value.text, expected)) if isinstance(expected, str) else false()
        )
        return sure(or_(in_text, _array_has(document, test.property, expected, field)))
    if op == "starts_with":
        return sure(and_(is_text, func.substr(value.text, 1, len(expected)) == expected))
    if op == "ends_with":
        tail = func.substr(value.text, func.length(value.text) - len(expected) + 1)
        return sure(and_(is_text, func.length(value.text) >= len(expected), tail == expected))
    if op == "matches":
        like = _glob_like(expected, field)
        return sure(
            and_(
                is_text,
                boolean(
                    sqlite=value.text.op("GLOB")(literal(expected, String)),
                    postgresql=value.text.like(like, escape="\\"),
                ),
            )
        )
    raise InvalidInput(
        f"{field}: the {op} operator is not available in audiences (use matches, starts_with, "
        "ends_with or contains)",
        field=field,
    )
