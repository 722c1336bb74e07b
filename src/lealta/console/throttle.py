"""Sign-in attempts limited per e-mail and per client address. Pure (time comes in).

After ``attempts`` failures within ``window`` seconds, further sign-ins for that e-mail (or from
that address) are refused until the oldest failure leaves the window. Kept in memory per server
process: with several processes each counts on its own.
"""

from __future__ import annotations

from collections import deque


class SignInThrottle:
    """Counts recent failures by key (``email:…`` and ``ip:…``)."""

    def __init__(self, attempts: int = 5, window: float = 900.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def wait(self, keys: tuple[str, ...], *, now: float) -> float:
        """Seconds until one of ``keys`` may try again (0: now)."""
        longest = 0.0
        for key in keys:
            recent = self._recent(key, now)
            if len(recent) >= self.attempts:
                longest = max(longest, recent[0] + self.window - now)
        return longest

    def failed(self, keys: tuple[str, ...], *, now: float) -> None:
        """Remember a failed attempt."""
        if len(self._failures) > 100_000:
            self._failures.clear()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        """Forget the failures of a key that has signed in."""
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent
