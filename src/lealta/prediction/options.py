"""What a prediction run is asked for: time unit, horizon, discount rate and holdout.

Pure values, checked on construction; the command line and the Python API build them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from lealta.errors import InvalidInput

Period = Literal["day", "week"]
PERIOD_DAYS: dict[str, int] = {"day": 1, "week": 7}
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class CLVOptions:
    """How customers are summarised and scored.

    Parameters
    ----------
    as_of
        The last day observed (inclusive): purchases on this day count, ``T`` is measured to it.
        Default: the day of the last purchase in the data.
    period
        The models' time unit: ``week`` (as in Fader and Hardie's papers) or ``day``.
        ``recency`` and ``T`` are in this unit and the fitted ``alpha`` (BG/NBD) depends on it.
    horizon_days
        How far ahead purchases and value are predicted (a 30-day month is one CLV step).
    discount
        Annual discount rate for the lifetime value (0.1 = 10 % a year); each 30-day step's
        value is divided by ``(1 + discount) ** (days to the step's end / 365)``.
    holdout
        ``None``: fit on everything up to ``as_of``. A number of days: the last so many days
        before ``as_of`` are held out. A date: the calibration ends on that day (inclusive).
    """

    as_of: dt.date | None = None
    period: Period = "week"
    horizon_days: int = 90
    discount: float = 0.0
    holdout: int | dt.date | None = None

    def __post_init__(self) -> None:
        if self.period not in PERIOD_DAYS:
            raise InvalidInput(f"period takes day or week, got {self.period!r}", field="period")
        if self.horizon_days <= 0:
            raise InvalidInput("the horizon must be at least one day", field="horizon")
        if not 0 <= self.discount < 1:
            raise InvalidInput(
                f"the discount is an annual rate from 0 to 1 (0.1 = 10 %), got {self.discount}",
                field="discount",
            )
        if isinstance(self.holdout, int) and self.holdout <= 0:
            raise InvalidInput("the holdout must be at least one day", field="holdout")

    @property
    def period_days(self) -> int:
        return PERIOD_DAYS[self.period]

    def calibration_end(self, as_of: dt.date) -> dt.date:
        """The last day of the calibration period (``as_of`` without a holdout)."""
        if self.holdout is None:
            return as_of
        if isinstance(self.holdout, dt.date):
            end = self.holdout
        else:
            end = as_of - dt.timedelta(days=self.holdout)
        if end >= as_of:
            raise InvalidInput(
                f"the calibration would end on {end}, not before the last day observed "
                f"({as_of}): nothing is left to hold out",
                field="holdout",
            )
        return end


def parse_span(text: str, field: str) -> int:
    """``"90"``, ``"90d"``, ``"13w"``, ``"3m"`` (30-day months) or ``"1y"`` → days."""
    value, unit = (text[:-1], text[-1].lower()) if text[-1:].isalpha() else (text, "d")
    if unit not in UNIT_DAYS or not value.isdigit() or int(value) <= 0:
        raise InvalidInput(
            f"--{field} takes a positive number of days (or 13w, 3m, 1y), got {text!r}",
            field=field,
        )
    return int(value) * UNIT_DAYS[unit]


def parse_holdout(text: str | None) -> int | dt.date | None:
    """``"39w"`` (a length held out at the end) or ``"1997-09-30"`` (the calibration's end)."""
    if not text:
        return None
    if "-" in text:
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise InvalidInput(
                f"--holdout takes a length (39w) or a date (YYYY-MM-DD), got {text!r}",
                field="holdout",
            ) from exc
    return parse_span(text, "holdout")
