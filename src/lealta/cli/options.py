"""Parsing the command line's compact option values (break points, rankings, windows)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lealta.errors import InvalidInput
from lealta.yaml_input import load_yaml


def parse_breaks(text: str | None, option: str) -> tuple[float, ...] | None:
    """``"30,90,180"`` → ``(30.0, 90.0, 180.0)``."""
    if not text:
        return None
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"{option} takes numbers separated by commas, got {text!r}", field=option
        ) from exc


def parse_ranking(text: str | None) -> dict[str, float]:
    """``"card=5,paypal=4"`` or a YAML file mapping method → value (higher is better)."""
    if not text:
        return {}
    if Path(text).is_file():
        data = load_yaml(Path(text).read_text("utf-8"), field="payment_ranking")
        if not isinstance(data, dict):
            raise InvalidInput(
                f"{text}: expected a mapping of method to value", field="payment_ranking"
            )
        items = [(str(k), v) for k, v in data.items()]
    else:
        items = []
        for part in text.split(","):
            method, sep, value = part.partition("=")
            if not sep:
                raise InvalidInput(
                    f"--payment-ranking takes method=value pairs, got {part!r}",
                    field="payment_ranking",
                )
            items.append((method, value))
    ranking: dict[str, float] = {}
    for method, value in items:
        try:
            ranking[method.strip().lower()] = float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"payment method {method!r}: {value!r} is not a number", field="payment_ranking"
            ) from exc
    return ranking


def parse_window(text: str | None) -> int | None:
    """``"365"``, ``"365d"``, ``"52w"`` or ``"12m"`` (months of 30 days) → days."""
    if not text:
        return None
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    value, unit = (text[:-1], text[-1].lower()) if text[-1].isalpha() else (text, "d")
    if unit not in units or not value.isdigit() or int(value) <= 0:
        raise InvalidInput(
            f"--window takes a positive number of days (or 52w, 12m, 1y), got {text!r}",
            field="window",
        )
    return int(value) * units[unit]


def parse_date(text: str | None, option: str) -> dt.date | None:
    """An ISO date (``2011-12-10``)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{option} takes a date as YYYY-MM-DD, got {text!r}", field=option
        ) from exc
