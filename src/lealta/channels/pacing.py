"""Holding each channel to its rate limit (``LEALTA_CHANNEL_RATE_LIMITS``).

Providers throttle senders (an SMS gateway takes so many messages a second, an SMTP relay
defers a sender that floods it), so the dispatcher paces each channel itself. A token bucket
per channel: ``rate`` messages per second on average, bursts of at most ``rate`` messages (one
second's worth). Channels without a limit are not paced. The clock and the sleep are
injected, so the pacing is tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from lealta.errors import InvalidInput


class Pacer:
    """Token buckets per channel; :meth:`wait` blocks until the next message may go."""

    def __init__(
        self,
        rates: Mapping[str, float],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for channel, rate in rates.items():
            if rate <= 0:
                raise InvalidInput(
                    f"the rate limit of {channel!r} must be above 0 messages per second",
                    field="channel_rate_limits",
                )
        self.rates = dict(rates)
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = {channel: float(rate) for channel, rate in self.rates.items()}
        self._at = {channel: monotonic() for channel in self.rates}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Block until one more message may go on ``channel``; the seconds waited."""
        rate = self.rates.get(channel)
        if rate is None:
            return 0.0
        with self._lock:  # one bucket per channel, shared by the threads that send on it
            now = self._monotonic()
            tokens = min(rate, self._tokens[channel] + (now - self._at[channel]) * rate)
            pause = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._tokens[channel] = tokens - 1 + pause * rate
            self._at[channel] = now + pause
        if pause > 0:
            self._sleep(pause)
        return pause
