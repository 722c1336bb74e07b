"""Reading one cell: text, numbers, amounts, dates and JSON, each refused with a reason. Pure.

Cells come as text (CSV) or typed (Parquet, JSON lines); every reader here accepts both. An
empty cell is "missing" (``None``), never an error by itself.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import orjson

from lealta.errors import InvalidInput
from lealta.moments import OutOfRange, utc_in_range
from lealta.orders.dates import ISO

CENT = Decimal("0.01")


def text(value: Any) -> str | None:
    """The cell as trimmed text; ``None`` when empty (whole floats lose their ``.0``)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    result = str(value).strip()
    return result or None


def number(value: Any, field: str) -> Decimal | None:
    """A finite decimal number; ``None`` when empty."""
    if isinstance(value, bool):
        raise InvalidInput(f"{value!r} is not a number", field=field)
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise InvalidInput(f"{value!r} is not a finite number", field=field)
        return Decimal(str(value))
    cell = text(value)
    if cell is None:
        return None
    try:
        result = Decimal(cell)
    except InvalidOperation:
        raise InvalidInput(f"{cell!r} is not a number", field=field) from None
    if not result.is_finite():
        raise InvalidInput(f"{cell!r} is not a finite number", field=field)
    return result


def amount(value: Any, field: str) -> Decimal | None:
    """A money amount, zero or more, rounded to cents (half up); ``None`` when empty."""
    result = number(value, field)
    if result is None:
        return None
    if result < 0:
        raise InvalidInput(f"{text(value)} is negative", field=field)
    return result.quantize(CENT, rounding=ROUND_HALF_UP)


def whole(value: Any, field: str) -> int | None:
    """A whole number (quantities); ``None`` when empty."""
    result = number(value, field)
    if result is None:
        return None
    if result != result.to_integral_value():
        raise InvalidInput(f"{text(value)} is not a whole number", field=field)
    return int(result)


def moment(value: Any, field: str, fmt: str | None = None) -> dt.datetime | None:
    """A date and time in UTC (a time without zone is taken as UTC); ``None`` when empty.

    Text is read as ISO 8601 first, then with ``fmt`` (a strftime format) when given.
    """
    if isinstance(value, dt.datetime):
        try:
            return utc_in_range(value)
        except OutOfRange as error:
            raise InvalidInput(f"{value.isoformat()} {error}", field=field) from None
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    cell = text(value)
    if cell is None:
        return None
    for reader in _readers(fmt):
        try:
            found = reader(cell)
        except ValueError:
            continue
        try:
            return utc_in_range(found)
        except OutOfRange as error:
            raise InvalidInput(f"{cell!r} {error}", field=field) from None
    hint = f" (expected {fmt})" if fmt and fmt != ISO else " (expected ISO 8601, YYYY-MM-DD)"
    raise InvalidInput(f"{cell!r} is not a date{hint}", field=field)


def day(value: Any, field: str, fmt: str | None = None) -> dt.date | None:
    """A calendar date (due and paid dates); ``None`` when empty."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    found = moment(value, field, fmt)
    return found.date() if found is not None else None


def json_object(value: Any, field: str) -> dict[str, Any] | None:
    """A JSON object given as text (or already decoded); ``None`` when empty."""
    if isinstance(value, dict):
        return value
    cell = text(value)
    if cell is None:
        return None
    try:
        decoded = orjson.loads(cell)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON ({exc})", field=field) from None
    if not isinstance(decoded, dict):
        raise InvalidInput("must be a JSON object ({...})", field=field)
    return dict(decoded)


def scalar(value: Any) -> Any:
    """A flat cell as a JSON value: text that reads as a JSON number or boolean becomes one."""
    if not isinstance(value, str):
        return value.isoformat() if isinstance(value, dt.date) else value
    cell = value.strip()
    if cell in ("true", "false") or (cell[:1].isdigit() or cell[:1] == "-"):
        try:
            decoded = orjson.loads(cell)
        except orjson.JSONDecodeError:
            return value
        if isinstance(decoded, bool | int | float):
            return decoded
    return value


def _readers(fmt: str | None) -> list[Any]:
    readers: list[Any] = [_iso]
    if fmt and fmt != ISO:
        readers.append(lambda cell: dt.datetime.strptime(cell, fmt))
        date_part = fmt.split(" ")[0]
        if date_part != fmt:
            readers.append(lambda cell: dt.datetime.strptime(cell, date_part))
    return readers


def _iso(cell: str) -> dt.datetime:
    if len(cell) < 10 or not cell[:4].isdigit():  # fromisoformat also takes 20240105
        raise ValueError(cell)
    return dt.datetime.fromisoformat(cell)
