"""Durations, clock times, local moments and cron expressions for workflows. Pure.

Durations are written short (``"30m"``, ``"1h"``, ``"3d"``, ``"2w"``, ``"1d12h"``) or as an
ISO 8601 subset (``"P1D"``, ``"PT2H"``, ``"P1DT12H30M"``, ``"P2W"``); months and years are
refused because their length varies. Cron expressions have the usual five fields (minute, hour,
day of month, month, day of week with 0 or 7 for Sunday) made of numbers, ``*``, ranges
``a-b``, lists ``a,b`` and steps ``*/n`` or ``a-b/n``. As in cron, when both the day of month
and the day of week are restricted a day matching either one matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lealta.errors import InvalidInput

_SHORT = re.compile(r"^(?:\d+[smhdw])+$")
_SHORT_PART = re.compile(r"(\d+)([smhdw])")
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W|(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?)$"
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_DURATION = timedelta(days=3650)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The longest gap between two Feb 29ths (1896 → 1904) bounds every anniversary search.
_ANNIVERSARY_YEARS = 30
_CRON_DAYS_AHEAD = 366 * 8


def parse_duration(text: str) -> timedelta:
    """The length of a duration written short (``"3d"``) or in ISO 8601 (``"P3D"``).

    Parameters
    ----------
    text
        ``"45s"``, ``"30m"``, ``"1h"``, ``"3d"``, ``"2w"``, ``"1d12h"``, ``"P1W"``, ``"PT2H"``,
        ``"P1DT12H"``; surrounding blanks are ignored, letters are case-insensitive.

    Returns
    -------
    timedelta
        The positive duration, at most ten years.

    Raises
    ------
    InvalidInput
        When the text is not a duration, is zero, or is longer than ten years.
    """
    cleaned = text.strip()
    short = cleaned.lower()
    iso = cleaned.upper()
    if _SHORT.match(short):
        seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _SHORT_PART.findall(short))
    elif (found := _ISO.match(iso)) and iso not in ("P", "PT") and not iso.endswith("T"):
        parts = {key: int(value or 0) for key, value in found.groupdict().items()}
        seconds = (
            parts["w"] * _UNIT_SECONDS["w"]
            + parts["d"] * _UNIT_SECONDS["d"]
            + parts["h"] * 3600
            + parts["m"] * 60
            + parts["s"]
        )
    else:
        raise InvalidInput(
            f"invalid duration {text!r}: write e.g. 30m, 1h, 3d, 2w or P1D, PT2H",
            field="duration",
        )
    if seconds <= 0:
        raise InvalidInput(f"duration {text!r} must be longer than zero", field="duration")
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInput(f"duration {text!r} is longer than ten years", field="duration")
    return timedelta(seconds=seconds)


def parse_clock(text: str) -> time:
    """A local time of day written ``"HH:MM"`` (24 hours, ``"00:00"`` to ``"23:59"``).

    Raises
    ------
    InvalidInput
        When the text is not such a time.
    """
    found = _CLOCK.match(text.strip())
    if found is None:
        raise InvalidInput(f"invalid time {text!r}: write HH:MM, e.g. 09:30", field="time")
    return time(int(found.group(1)), int(found.group(2)))


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA time zone called ``name``, or None when it is empty or unknown."""
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def check_zone(name: str) -> str:
    """``name`` when it is a known IANA time zone.

    Raises
    ------
    InvalidInput
        When it is not.
    """
    if zone_named(name) is None:
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone")
    return name


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``at`` in ``zone``, in UTC.

    A local time the clocks skip (spring forward) is moved on by the gap (02:30 → 03:30); a
    repeated one (fall back) is its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def exists_locally(moment: datetime, day: date, at: time, zone: ZoneInfo) -> bool:
    """Whether ``moment`` (from :func:`wall_clock`) really shows ``day`` at ``at`` in ``zone``."""
    local = moment.astimezone(zone)
    return local.date() == day and local.time() == at


def as_date(value: object) -> date | None:
    """A date attribute's value as a date: ``YYYY-MM-DD`` (or a datetime's date), or
    ``--MM-DD`` for a yearless birthday; None when it is anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if text.startswith("--"):
            return date.fromisoformat(f"2000-{text[2:7]}")  # a leap year: 29 February exists
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _anniversary_in(year: int, day: date) -> date:
    """``day``'s anniversary in ``year``; 29 February falls on the 28th in common years."""
    try:
        return day.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _candidate_days(
    start: date, weekdays: frozenset[int] | None, anniversary: date | None, days_before: int
) -> list[date]:
    """Local days from ``start`` on that pass the weekday and anniversary filters, in order."""
    if anniversary is None:
        days = [start + timedelta(days=offset) for offset in range(8)]
    else:
        years = range(start.year - 1, start.year + _ANNIVERSARY_YEARS)
        shifted = (
            _anniversary_in(year, anniversary) - timedelta(days=days_before) for year in years
        )
        days = [day for day in shifted if day >= start]
    return [day for day in days if weekdays is None or day.weekday() in weekdays]


def next_local_moment(
    after: datetime,
    zone: ZoneInfo,
    *,
    at: time | None = None,
    weekdays: frozenset[int] | None = None,
    anniversary: date | None = None,
    days_before: int = 0,
) -> datetime | None:
    """The first moment after ``after`` that falls on a wanted local day at a wanted time.

    Parameters
    ----------
    after
        A timezone-aware moment.
    zone
        The time zone the day and time are read in (the contact's).
    at
        The local time of day. With a time, the moment is strictly after ``after``; a time
        that does not exist that day (spring-forward gap) is moved on by the gap. Without
        one, any moment of a wanted day will do: ``after`` itself when its local day is
        wanted, else the start of the next wanted day.
    weekdays
        Wanted days of the week (Monday is 0); None for any.
    anniversary
        A date (a birthday): only the days ``days_before`` ahead of its yearly anniversary are
        wanted (29 February: the 28th in common years).
    days_before
        How many days ahead of the anniversary.

    Returns
    -------
    datetime | None
        The moment in UTC, or None when no wanted day comes within 30 years.
    """
    today = after.astimezone(zone).date()
    for day in _candidate_days(today, weekdays, anniversary, days_before):
        if at is None:
            if day == today:
                return after.astimezone(UTC)
            return wall_clock(day, time(0, 0), zone)
        moment = wall_clock(day, at, zone)
        if moment > after:
            return moment
    return None


# -- cron ----------------------------------------------------------------------------------

_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed five-field cron expression.

    ``weekdays`` uses cron numbering (Sunday is 0). ``any_day``/``any_weekday`` say whether the
    day-of-month/day-of-week field starts with ``*`` (which changes how the two combine).
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def day_matches(self, day: date) -> bool:
        """Whether the schedule fires on ``day`` (at some minute)."""
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def matches(self, local: datetime) -> bool:
        """Whether the schedule fires at the minute of ``local`` (a wall-clock time)."""
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and self.day_matches(local.date())
        )

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first firing strictly after ``after``, read in ``zone``, returned in UTC.

        Local times skipped by a DST change do not fire; repeated ones fire once.
        """
        start = after.astimezone(zone).date()
        times = sorted(time(h, m) for h in self.hours for m in self.minutes)
        for offset in range(_CRON_DAYS_AHEAD):
            day = start + timedelta(days=offset)
            if not self.day_matches(day):
                continue
            for at in times:
                moment = wall_clock(day, at, zone)
                if moment > after and exists_locally(moment, day, at, zone):
                    return moment
        return None


def _cron_value(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"cron {name} {text!r} is not a number from {low} to {high}")
    return int(text)


def _cron_item(item: str, name: str, low: int, high: int) -> set[int]:
    span, _, step_text = item.partition("/")
    step = 1
    if step_text:
        step = _cron_value(step_text, f"{name} step", 1, high - low + 1)
    if span == "*":
        first, last = low, high
    elif "-" in span:
        first_text, _, last_text = span.partition("-")
        first = _cron_value(first_text, name, low, high)
        last = _cron_value(last_text, name, low, high)
        if first > last:
            raise InvalidInput(f"cron {name} range {span!r} runs backwards")
    else:
        first = _cron_value(span, name, low, high)
        last = high if step_text else first
    return set(range(first, last + 1, step))


def _cron_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        values |= _cron_item(item, name, low, high)
    return frozenset(values)


def parse_cron(text: str) -> CronSchedule:
    """A cron expression (``"0 9 * * 1-5"``) as a :class:`CronSchedule`.

    Raises
    ------
    InvalidInput
        When it does not have five valid fields, or can never fire (``"0 0 30 2 *"``).
    """
    fields = text.split()
    if len(fields) != 5:
        raise InvalidInput(
            f"invalid cron {text!r}: give five fields (minute hour day month weekday)",
            field="cron",
        )
    try:
        minutes, hours, days, months = (
            _cron_field(value, *spec) for value, spec in zip(fields, _CRON_FIELDS, strict=False)
        )
        weekdays = frozenset(day % 7 for day in _cron_field(fields[4], "day of week", 0, 7))
    except InvalidInput as exc:
        raise InvalidInput(f"invalid cron {text!r}: {exc}", field="cron") from None
    schedule = CronSchedule(
        minutes, hours, days, months, weekdays, fields[2].startswith("*"), fields[4].startswith("*")
    )
    if schedule.any_weekday and not any(
        day <= _MONTH_DAYS[month - 1] for month in months for day in days
    ):
        raise InvalidInput(f"cron {text!r} can never fire: no such day", field="cron")
    return schedule
