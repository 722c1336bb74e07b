"""Number and date formats of the console's templates (Jinja filters). Pure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jinja2 import Environment

from lealta.report.format import DASH, format_compact, format_number


def number(value: float | int | Decimal | None, decimals: int = 0) -> str:
    """``12,345``; a missing value is an en dash."""
    return DASH if value is None else format_number(float(value), decimals)


def percent(fraction: float | None, decimals: int = 1) -> str:
    """``23.1%``; a rate out of nothing is an en dash."""
    return DASH if fraction is None else f"{fraction * 100:,.{decimals}f}%"


def money(value: float | Decimal | None) -> str:
    """An amount with two decimals when small, compact when large (``€`` is not assumed)."""
    if value is None:
        return DASH
    amount = float(value)
    return format_number(amount, 2) if abs(amount) < 100_000 else format_compact(amount)


def when(moment: dt.datetime | None) -> str:
    """``2026-12-06 14:05 UTC``."""
    if moment is None:
        return DASH
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def register(env: Environment) -> None:
    """Make the filters available to ``env``'s templates."""
    env.filters.update(number=number, percent=percent, money=money, when=when)
