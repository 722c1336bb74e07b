"""The clock, injected wherever the current time matters (tests freeze it and jump ahead)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Tells the current time in UTC."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware, UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware, UTC."""
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that stands still until moved: for tests and simulations."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start if start.tzinfo else start.replace(tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        """The frozen time."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move forward, e.g. ``advance(days=90)``."""
        self.current += dt.timedelta(**delta)
