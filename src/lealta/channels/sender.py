"""The worker's sending loop: the outbox delivered through the configured channels.

Sending waits on networks (SMTP replies, provider APIs) while applying events and advancing
runs use the CPU and the database, so the dispatcher has a thread of its own in
``lealta worker``: it delivers batch after batch while messages are due, then looks again
every ``poll`` seconds (or at once when :meth:`Sender.notify` says new messages are there).
Every pass applies the sending policy from the settings (quiet hours, frequency caps), each
channel's rate limit, and renders each message from its template for its person. Messages
held for quiet hours are logged in one line per round of passes (how many, and from when until
when they go out), not one per message.
"""

from __future__ import annotations

import logging
import threading
import time
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
    """Delivers due outbox messages in threads of its own until stopped.

    ``threads`` (``LEALTA_SEND_THREADS``, default 1) passes run side by side: while one renders
    its batch, another waits on the SMTP server or the database, so the waits overlap with the
    work. They share the outbox as separate workers would.
    """

    def __init__(
        self,
        services: Services,
        channels: Mapping[str, Channel],
        *,
        poll: float = 1.0,
        render: Renderer | None = None,
        batch: int = BATCH,
        threads: int | None = None,
    ) -> None:
        self.services = services
        self.channels = dict(channels)
        self.poll = poll
        self.batch = batch
        self.threads = threads or services.settings.send_threads
        if render is None:
            from lealta.channels.rendering import renderer

            render = renderer(services.settings, services.clock)
        self.render = render
        self.pacer = Pacer(services.settings.channel_rate_limits)
        self.quiet, self.caps = sending_policy(services.settings)
        self.total = DispatchReport()
        self._total_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

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
        with self._total_lock:
            self.total.add(report)
        return report

    def drain(self) -> DispatchReport:
        """Send until nothing is due, with every thread; what was done (benchmarks, tests)."""
        done = DispatchReport()

        def work() -> None:
            while True:
                report = self.pass_()
                with self._total_lock:
                    done.add(report)
                if not report.claimed:
                    return

        if self.threads == 1:
            work()
        else:
            workers = [threading.Thread(target=work) for _ in range(self.threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        log_holds(done, self.quiet)
        return done

    def start(self) -> None:
        """Start sending in daemon threads."""
        self._threads = [
            threading.Thread(target=self.run, name=f"lealta-sender-{n}", daemon=True)
            for n in range(self.threads)
        ]
        for thread in self._threads:
            thread.start()

    def notify(self) -> None:
        """New messages may be due."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the message being sent, record it, and stop (within ``timeout`` seconds in
        all, however many threads send)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def run(self) -> None:
        """The loop: batches while any message is due, then wait to be woken or polled."""
        while not self._stop.is_set():
            self._wake.clear()
            done = DispatchReport()
            try:
                while not self._stop.is_set():
                    report = self.pass_()
                    done.add(report)
                    if not report.claimed:
                        break
                log_holds(done, self.quiet)
            except Exception:
                log.exception("sending failed; trying again shortly")
            self._wake.wait(self.poll)


def log_holds(report: DispatchReport, quiet: QuietHours | None) -> None:
    """One line for the messages ``report`` held, if any: how many, and when they go out."""
    if not report.postponed or report.held_from is None or report.held_until is None:
        return
    hours = f" ({quiet.start}-{quiet.end} in each contact's time zone)" if quiet else ""
    first, last = (
        f"{moment:%Y-%m-%d %H:%M} UTC" for moment in (report.held_from, report.held_until)
    )
    span = f"at {first}" if first == last else f"between {first} and {last}"
    log.info(
        "held %d message%s for quiet hours%s; they go out %s (set LEALTA_QUIET_HOURS to change)",
        report.postponed,
        "" if report.postponed == 1 else "s",
        hours,
        span,
    )
