"""The worker's sending loop: the outbox delivered through the configured channels.

Sending waits on networks (SMTP replies, provider APIs) while applying events and advancing
runs use the CPU and the database, so the dispatcher has a thread of its own in
``lealta worker``: it delivers batch after batch while messages are due, then looks again
every ``poll`` seconds (or at once when :meth:`Sender.notify` says new messages are there).
Every pass applies the sending policy from the settings (quiet hours, frequency caps), each
channel's rate limit, and renders each message from its template for its person.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from lealta.bootstrap import Services
from lealta.channels.base import Channel
from lealta.channels.dispatcher import DispatchReport, Renderer, dispatch_due
from lealta.channels.pacing import Pacer
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.config import Settings

log = logging.getLogger(__name__)
BATCH = 200


def sending_policy(settings: Settings) -> tuple[QuietHours | None, tuple[FrequencyCap, ...]]:
    """Quiet hours and frequency caps from the settings."""
    quiet = None
    if settings.quiet_hours:
        start, end = settings.quiet_hours.split("-")
        quiet = QuietHours(start=start, end=end)
    caps = tuple(
        FrequencyCap(max_messages=int(n), per_days=int(days.rstrip("d")))
        for n, days in (cap.split("/") for cap in settings.frequency_caps)
    )
    return quiet, caps


class Sender:
    """Delivers due outbox messages in a thread of its own until stopped."""

    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        *,
        poll: float = 1.0,
        render: Renderer | None = None,
        batch: int = BATCH,
    ) -> None:
        self.services = services
        self.channels = dict(channels)
        self.poll = poll
        self.batch = batch
        if render is None:
            from lealta.channels.rendering import renderer

            render = renderer(services.settings, services.clock)
        self.render = render
        self.pacer = Pacer(services.settings.channel_rate_limits)
        self.quiet, self.caps = sending_policy(services.settings)
        self.total = DispatchReport()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pass_(self) -> DispatchReport:
        """One batch: claim, render, send, record."""
        report = dispatch_due(
            self.services,
            self.channels,
            limit=self.batch,
            caps=self.caps,
            quiet=self.quiet,
            render=self.render,
            pacer=self.pacer,
            stop=self._stop,
        )
        self.total.add(report)
        return report

    def start(self) -> None:
        """Start sending in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="lealta-sender", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """New messages may be due."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message being sent, record it, and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """The loop: batches while any message is due, then wait to be woken or polled."""
        while not self._stop.is_set():
            self._wake.clear()
            try:
                while not self._stop.is_set() and self.pass_().claimed:
                    pass
            except Exception:
                log.exception("sending failed; trying again shortly")
            self._wake.wait(self.poll)
