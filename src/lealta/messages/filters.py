"""Filters for message templates: money, numbers and dates in the reader's language. Pure.

Formatting follows the language of the rendering (the contact's ``language``, e.g. ``pt-BR``)
and dates are shown in the contact's ``timezone``. Every filter is forgiving at send time: a
missing or empty value gives an empty string rather than an error, so a message still goes
out when one customer lacks a field. ``default`` also treats ``None`` (a known but empty value)
as missing: ``{{ contact.first_name | default("there") }}``.

The filters below replace Jinja's ``join``, ``replace``, ``center``, ``indent`` and ``format``
with the same behaviour, charged to the rendering's work budget (see
:mod:`lealta.messages.sandbox`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import suppress
from decimal import Decimal, InvalidOperation
from functools import lru_cache, wraps
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import filters as builtin
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.utils import pass_context, pass_eval_context

from lealta.messages import sandbox

# decimal mark, thousands separator, and whether the currency symbol comes first
_NUMBERS: dict[str, tuple[str, str]] = {
    "en": (".", ","),
    "pt": (",", "."),
    "es": (",", "."),
    "de": (",", "."),
    "it": (",", "."),
    "nl": (",", "."),
    "fr": (",", "\u202f"),
}
_SYMBOL_FIRST = {"en", "nl", "pt-br"}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "BRL": "R$", "JPY": "¥", "INR": "₹"}
_NO_DECIMALS = {"JPY", "KRW", "CLP", "ISK"}
_MONTH_NAMES = {
    "en": "January February March April May June July August September October November December",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
_MONTHS = {language: names.split() for language, names in _MONTH_NAMES.items()}
_LONG_DATE = {
    "en": "{day} {month} {year}",
    "en-us": "{month} {day}, {year}",
    "pt": "{day} de {month} de {year}",
    "es": "{day} de {month} de {year}",
    "de": "{day}. {month} {year}",
}


def _language() -> tuple[str, str]:
    """The rendering's language as (full code, primary subtag), lower case."""
    code = (sandbox.current().language or "en").replace("_", "-").lower()
    return code, code.split("-")[0]


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or value == ""


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _group(number: Decimal, decimals: int, primary: str | None = None) -> str:
    if primary is None:
        primary = _language()[1]
    mark, thousands = _NUMBERS.get(primary, _NUMBERS["en"])
    text = f"{abs(number):,.{decimals}f}"
    whole, _, fraction = text.partition(".")
    whole = whole.replace(",", thousands)
    sign = "-" if number < 0 else ""
    return f"{sign}{whole}{mark}{fraction}" if fraction else f"{sign}{whole}"


def number(value: Any, decimals: int = 0) -> str:
    """``value`` with the reader's decimal mark and thousands separator: ``1.234,5``."""
    if _missing(value):
        return ""
    found = _decimal(value)
    return _group(found, max(0, min(int(decimals), 10))) if found is not None else str(value)


def money(value: Any, currency: Any = "EUR") -> str:
    """An amount in ``currency`` as the reader writes it: ``€12.50`` (en), ``12,50 €`` (de,
    fr, es, pt), ``R$ 12,50`` (pt-BR)."""
    if _missing(value):
        return ""
    language = _language()
    if type(value) in _PLAIN_AMOUNTS and type(currency) is str:
        # a mailing shows the same few prices to everyone: each is worked out once
        with suppress(TypeError):  # not hashable after all (a signalling NaN)
            return _money(value, currency, language)
    return _money_of(value, currency, language)


# Values whose text, and so whose amount, never changes: the only ones remembered.
_PLAIN_AMOUNTS = frozenset({int, float, str, Decimal})


@lru_cache(maxsize=4096, typed=True)  # 1, 1.0 and "1" kept apart
def _money(value: Any, currency: str, language: tuple[str, str]) -> str:
    return _money_of(value, currency, language)


def _money_of(value: Any, currency: Any, language: tuple[str, str]) -> str:
    found = _decimal(value)
    if found is None:
        return str(value)
    code = str(currency or "EUR").upper()
    amount = _group(found, 0 if code in _NO_DECIMALS else 2, language[1])
    symbol = _SYMBOLS.get(code, code)
    full, primary = language
    if full in _SYMBOL_FIRST or primary in _SYMBOL_FIRST:
        gap = "" if primary == "en" and len(symbol) == 1 else " "
        return f"{symbol}{gap}{amount}"
    return f"{amount} {symbol}"


def _moment(value: Any) -> dt.date | dt.datetime | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                dt.datetime.fromisoformat(text)
                if "T" in text or " " in text
                else (dt.date.fromisoformat(text))
            )
        except ValueError:
            return None
    return None


def _local(moment: dt.datetime) -> dt.datetime:
    zone = sandbox.current().timezone
    if not zone or moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment


def _format_date(day: dt.date, style: str) -> str:
    code, primary = _language()
    if style == "iso":
        return day.isoformat()
    if style == "short":
        if code == "en-us":
            return f"{day.month:02d}/{day.day:02d}/{day.year}"
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    month = _MONTHS.get(primary, _MONTHS["en"])[day.month - 1]
    pattern = _LONG_DATE.get(code) or _LONG_DATE.get(primary) or "{day} {month} {year}"
    return pattern.format(day=day.day, month=month, year=day.year)


def date(value: Any, style: str = "long") -> str:
    """A date (or the date of a moment, in the contact's time zone): ``style`` is ``long``
    (``3 May 2024``, ``3 de maio de 2024``), ``short`` (``03/05/2024``), ``iso``, or a
    ``strftime`` pattern such as ``"%d.%m."``."""
    moment = _moment(value)
    if moment is None:
        return "" if _missing(value) else str(value)
    if isinstance(moment, dt.datetime):
        moment = _local(moment)
    if "%" in style:
        if len(style) > 100:
            raise sandbox.LimitExceeded("a date pattern is at most 100 characters")
        return moment.strftime(style)
    return _format_date(moment if not isinstance(moment, dt.datetime) else moment.date(), style)


def datetime(value: Any, style: str = "long") -> str:
    """A moment in the contact's time zone: the date as :func:`date` shows it, then ``HH:MM``."""
    moment = _moment(value)
    if not isinstance(moment, dt.datetime):
        return date(value, style)
    local = _local(moment)
    if "%" in style:
        return date(local, style)
    return f"{_format_date(local.date(), style)} {local:%H:%M}"


def days_until(value: Any) -> int | str:
    """Whole days from now until ``value`` (a date or moment): ``3`` for a voucher expiring in
    three days, negative once past; empty when ``value`` is missing."""
    moment = _moment(value)
    now = sandbox.current().now
    if moment is None or now is None:
        return ""
    local_now = _local(now).date()
    if isinstance(moment, dt.datetime):
        moment = _local(moment).date() if moment.tzinfo else moment.date()
    return (moment - local_now).days


def default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """``default_value`` when ``value`` is missing or ``None`` (or, with ``boolean=True``, any
    false value such as ``""``)."""
    if value is None or isinstance(value, Undefined) or (boolean and not value):
        return default_value
    return value


# -- Jinja's growing filters, charged ----------------------------------------------------------


@pass_eval_context
def join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    """Jinja's ``join``, charged."""
    items = list(value) if not isinstance(value, Undefined) else []
    sandbox.current().charge(len(str(d)) * max(len(items) - 1, 0))
    result: str = builtin.sync_do_join(eval_ctx, items, d, attribute)
    sandbox.current().charge(len(result))
    return result


@pass_eval_context
def replace(eval_ctx: EvalContext, s: str, old: str, new: str, count: int | None = None) -> str:
    """Jinja's ``replace``, charged before it grows the text."""
    text, old_text = str(s), str(old)
    hits = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    sandbox.current().charge(len(text) + hits * len(str(new)))
    return builtin.do_replace(eval_ctx, s, old, new, count)


def center(value: str, width: int = 80) -> str:
    """Jinja's ``center``, at most :data:`~lealta.messages.sandbox.MAX_WIDTH` wide."""
    _check_width(width)
    return builtin.do_center(value, width)


def indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    """Jinja's ``indent``, with a bounded indentation."""
    _check_width(len(width) if isinstance(width, str) else width)
    result = builtin.do_indent(s, width, first, blank)
    sandbox.current().charge(len(result))
    return result


def format_(value: str, *args: Any, **kwargs: Any) -> str:
    """Jinja's printf-style ``format``, with bounded widths."""
    if sandbox.WIDE_PERCENT.search(str(value)):
        raise sandbox.LimitExceeded(
            f"formatting widths above {sandbox.MAX_WIDTH - 1} are not allowed"
        )
    result = builtin.do_format(value, *args, **kwargs)
    sandbox.current().charge(len(result))
    return result


def _check_width(width: int) -> None:
    if not isinstance(width, int) or width > sandbox.MAX_WIDTH:
        raise sandbox.LimitExceeded(f"widths above {sandbox.MAX_WIDTH} are not allowed")


def _per_rendering(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as a filter Jinja never works out while compiling: it folds a filter of
    constants (``{{ 50 | money }}``) into the compiled template unless the filter takes the
    template's context, and these read the rendering's language, zone or clock, so the first
    reader's would be kept for everyone the compiled template serves."""

    @pass_context
    @wraps(function)
    def filtered(_context: Context, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return filtered


FILTERS: dict[str, Callable[..., Any]] = {
    "money": _per_rendering(money),
    "number": _per_rendering(number),
    "date": _per_rendering(date),
    "datetime": _per_rendering(datetime),
    "days_until": _per_rendering(days_until),
    "default": default,
    "d": default,
    "join": join,
    "replace": replace,
    "center": center,
    "indent": indent,
    "format": format_,
}
