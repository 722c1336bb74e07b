"""Sending policy (pure): frequency caps across workflows, and quiet hours in the contact's zone.

Frequency caps bound how many messages one person receives, whichever workflows decided them:
``FrequencyCap(3, 7)`` allows at most three messages in any seven days (rolling window, the
message about to go counted). A cap may be limited to some channels; one without channels
counts every message.

Quiet hours are a wall-clock window in the contact's own time zone (``21:00`` to ``08:00`` by
default) during which nothing is delivered; a window may cross midnight. Moments are found on
real local clocks, so a window ending at a time skipped by a daylight-saving jump ends at the
jump, and one ending at a repeated time ends at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from lealta.errors import InvalidInput

SentTime = dt.datetime | tuple[dt.datetime, str]


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``max_messages`` in any ``per_days`` days, on ``channels`` (``None``: all)."""

    max_messages: int
    per_days: int
    channels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.max_messages < 0:
            raise InvalidInput("max_messages must be 0 or more", field="max_messages")
        if self.per_days < 1:
            raise InvalidInput("per_days must be 1 or more", field="per_days")
        if self.channels is not None:
            object.__setattr__(self, "channels", tuple(self.channels))

    @property
    def window(self) -> dt.timedelta:
        """The length of the rolling window."""
        return dt.timedelta(days=self.per_days)

    def covers(self, channel: str | None) -> bool:
        """True when messages on ``channel`` count toward this cap (``None``: unknown, yes)."""
        return self.channels is None or channel is None or channel in self.channels

    def describe(self) -> str:
        """Like ``3 messages per 7 days on email``."""
        on = f" on {', '.join(self.channels)}" if self.channels else ""
        return f"{self.max_messages} messages per {self.per_days} days{on}"


def allowed(
    sent_times: Sequence[SentTime],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    *,
    channel: str | None = None,
) -> bool:
    """True when one more message at ``now`` stays within every cap.

    ``sent_times`` are the contact's earlier messages: a time, or a (time, channel) pair. A
    bare time counts toward every cap; a pair only toward caps covering its channel. Only caps
    covering ``channel`` (the channel of the message about to go) apply; ``None`` applies all.
    """
    return breached(sent_times, now, caps, channel=channel) is None


def breached(
    sent_times: Sequence[SentTime],
    now: dt.datetime,
    caps: Sequence[FrequencyCap],
    *,
    channel: str | None = None,
) -> FrequencyCap | None:
    """The first cap one more message at ``now`` would exceed, if any (see :func:`allowed`)."""
    moments = [_pair(item) for item in sent_times]
    for cap in caps:
        if not cap.covers(channel):
            continue
        start = now - cap.window
        count = sum(1 for at, on in moments if at > start and cap.covers(on))
        if count + 1 > cap.max_messages:
            return cap
    return None


def _pair(item: SentTime) -> tuple[dt.datetime, str | None]:
    if isinstance(item, tuple):
        return _utc(item[0]), item[1]
    return _utc(item), None


@dataclass(frozen=True)
class QuietHours:
    """No delivery from ``start`` until ``end`` (``HH:MM``, local wall clock; may cross midnight).

    ``start == end`` means no quiet hours at all.
    """

    start: str = "21:00"
    end: str = "08:00"

    def __post_init__(self) -> None:
        _clock_time(self.start, "start")
        _clock_time(self.end, "end")

    @property
    def starts(self) -> dt.time:
        """The start as a time of day."""
        return _clock_time(self.start, "start")

    @property
    def ends(self) -> dt.time:
        """The end as a time of day."""
        return _clock_time(self.end, "end")

    @property
    def key(self) -> str:
        """What a message held by these hours records as its hold: ``quiet_hours 21:00-08:00``.

        A held message whose key differs from the current setting's is looked at again."""
        return f"quiet_hours {self.start}-{self.end}"

    def contains(self, local: dt.time) -> bool:
        """True when the wall-clock time ``local`` falls in the window (end excluded)."""
        start, end = self.starts, self.ends
        local = local.replace(tzinfo=None)
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end


def zone_of(name: str | None) -> zoneinfo.ZoneInfo:
    """The time zone called ``name``; UTC when it is missing or unknown."""
    if name:
        try:
            return zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo("UTC")


def is_quiet(moment: dt.datetime, timezone: str | None, quiet: QuietHours) -> bool:
    """True when ``moment`` falls in the quiet hours of a person living in ``timezone``."""
    return quiet.contains(_utc(moment).astimezone(zone_of(timezone)).time())


def hold_reason(quiet: QuietHours, timezone: str | None, until: dt.datetime) -> str:
    """Why a message waits, in words: ``quiet hours 21:00-08:00 in Europe/Rome until
    2025-06-03 08:00 local time`` (a contact without a known zone counts as UTC, and says so)."""
    zone = zone_of(timezone)
    if not timezone:
        where = "UTC (the contact has no time zone)"
    elif zone.key == "UTC" and timezone != "UTC":
        where = f"UTC (time zone {timezone!r} is unknown)"
    else:
        where = zone.key
    local = _utc(until).astimezone(zone)
    return (
        f"quiet hours {quiet.start}-{quiet.end} in {where} until {local:%Y-%m-%d %H:%M} local time"
    )


def next_allowed(now: dt.datetime, timezone: str | None, quiet: QuietHours) -> dt.datetime:
    """The first moment from ``now`` outside the quiet hours in ``timezone``, in UTC.

    ``now`` itself when it is not quiet. An unknown zone counts as UTC.
    """
    moment = _utc(now)
    for _ in range(3):  # a second pass only when a DST change lands inside the window
        if not is_quiet(moment, timezone, quiet):
            return moment
        moment = _window_end(moment, zone_of(timezone), timezone, quiet)
    return moment


def _window_end(
    now: dt.datetime, zone: zoneinfo.ZoneInfo, timezone: str | None, quiet: QuietHours
) -> dt.datetime:
    local = now.astimezone(zone)
    day = local.date()
    if local.time().replace(tzinfo=None) >= quiet.ends:
        day += dt.timedelta(days=1)
    wall = dt.datetime.combine(day, quiet.ends, tzinfo=zone)
    # The two readings of a wall time differ only around a DST change: a repeated time (the
    # earlier reading is its first occurrence) or a skipped one (quiet then ends at the jump).
    readings = sorted({_utc(wall.replace(fold=0)), _utc(wall.replace(fold=1))})
    still_quiet: dt.datetime | None = None
    for reading in readings:
        if reading <= now:
            continue
        if is_quiet(reading, timezone, quiet):
            still_quiet = reading
            continue
        if still_quiet is None:
            return reading
        return _first_free(still_quiet, reading, timezone, quiet)
    return readings[-1]


def _first_free(
    quiet_at: dt.datetime, free_at: dt.datetime, timezone: str | None, quiet: QuietHours
) -> dt.datetime:
    """The first second after ``quiet_at`` that is not quiet, knowing ``free_at`` is not."""
    low, high = int(quiet_at.timestamp()), int(free_at.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if is_quiet(dt.datetime.fromtimestamp(middle, dt.UTC), timezone, quiet):
            low = middle
        else:
            high = middle
    return dt.datetime.fromtimestamp(high, dt.UTC)


def _clock_time(text: str, field: str) -> dt.time:
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        message = f"{field} must be a time like 21:00; got {text!r}"
        raise InvalidInput(message, field=field) from None


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
