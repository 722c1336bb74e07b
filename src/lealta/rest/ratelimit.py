"""Per-key rate limits: a token bucket per API key, in the serving process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allows ``rate`` requests a second per key, absorbing bursts of twice that.

    Each serving process keeps its own buckets: behind N processes a key gets up to N times
    the rate, which the deployment sizes for.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, rate: float) -> float:
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        capacity = 2 * rate
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - then) * rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / rate
