"""The worker's sending loop: the outbox delivered through the configured channels.

Sending waits on networks (SMTP replies, provider APIs) while applying events and advancing
runs use the CPU and the database, so the dispatcher has a thread of its own in
``lealta worker``: it delivers batch after batch while messages are due, then looks again
every ``poll`` seconds (or at once when :meth:`Sender.notify` says new messages are there).
Every pass applies the sending policy from the settings (quiet hours, frequency caps), each
channel's rate limit, and renders each message from its template for its person. Messages
held for quiet hours are logged in one line per round of passes (how many, and from when until
when they go out), not one per message. A large mailing is rendered a batch ahead in a process
of its own while the batch before is sent (:mod:`lealta.channels.render_ahead`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass

from lealta.bootstrap import Services
from lealta.channels.base import Channel
from lealta.channels.dispatcher import (
    Claim,
    DispatchReport,
    Renderer,
    claim_due,
    release_claim,
    send_claimed,
    with_contents,
)
from lealta.channels.pacing import Pacer
from lealta.channels.policy import FrequencyCap, QuietHours
from lealta.channels.render_ahead import Contents, RenderProcesses, composing_for, shareable
from lealta.config import Settings

log = logging.getLogger(__name__)
BATCH = 200
# Full batches a sending thread claims beyond the one it sends, for its rendering process.
AHEAD = 2


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


@dataclass
class _Pending:
    """A batch claimed, its rendering under way in a rendering process (``future``) or not
    started (rendered in the sending thread when its turn comes)."""

    claim: Claim
    future: Future[Contents] | None = None


class Sender:
    """Delivers due outbox messages in threads of its own until stopped.

    ``threads`` (``LEALTA_SEND_THREADS``, default 1) passes run side by side: while one renders
    its batch, another waits on the SMTP server or the database, so the waits overlap with the
    work. They share the outbox as separate workers would. ``render_processes``
    (``LEALTA_RENDER_PROCESSES``, default 1) render the batch after the one being sent when
    a pass claims a full batch; they render only with the deployment's own renderer (not one
    passed as ``render``), and never for an in-memory SQLite database.
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
        render_processes: int | None = None,
    ) -> None:
        self.services = services
        self.channels = dict(channels)
        self.poll = poll
        self.batch = batch
        self.threads = threads or services.settings.send_threads
        settings = services.settings
        processes = settings.render_processes if render_processes is None else render_processes
        self.ahead: RenderProcesses | None = None
        if render is None:
            from lealta.channels.rendering import renderer

            render = renderer(settings, services.clock)
            if processes > 0 and shareable(settings.database_url):
                self.ahead = RenderProcesses(settings, processes, composing_for(self.channels))
        self.render = render
        self._local = threading.local()  # each thread's batches claimed ahead
        self.pacer = Pacer(services.settings.channel_rate_limits)
        self.quiet, self.caps = sending_policy(services.settings)
        self.total = DispatchReport()
        self._total_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def pass_(self) -> DispatchReport:
        """One batch: claim, render, send, record. The batch is sent while the ones after it
        (when it was full and a rendering process runs) are claimed and rendered in that
        process; the report of the batch sent."""
        report = self._pass()
        with self._total_lock:
            self.total.add(report)
        return report

    def _pass(self) -> DispatchReport:
        queue = self._queue()
        if not queue:
            queue.append(self._claim())
        pending = queue[0]
        if not pending.claim.report.claimed:
            queue.clear()
            return pending.claim.report
        # up to AHEAD batches claimed beyond this one, so the rendering process always has
        # the next one in hand, also while this thread claims
        while queue[-1].future is not None and len(queue) <= AHEAD and not self._stop.is_set():
            following = self._claim()
            if not following.claim.report.claimed:
                break
            queue.append(following)
        queue.popleft()
        claim = pending.claim
        if claim.deliveries:
            contents = self._contents(pending)
            ready = with_contents(self.services, claim.deliveries, contents, claim.report)
            claim.deliveries = ready
            send_claimed(self.services, self.channels, claim, pacer=self.pacer, stop=self._stop)
        if self._stop.is_set():
            self._release_pending()
        return claim.report

    def _queue(self) -> deque[_Pending]:
        """This thread's batches claimed, the one to send first."""
        queue: deque[_Pending] | None = getattr(self._local, "queue", None)
        if queue is None:
            queue = self._local.queue = deque()
        return queue

    def _claim(self) -> _Pending:
        claim = claim_due(
            self.services, self.channels, limit=self.batch, caps=self.caps, quiet=self.quiet
        )
        pending = _Pending(claim)
        if self.ahead is not None and self._worth_rendering_ahead(claim):
            pending.future = self.ahead.submit(claim.deliveries, self.services.clock.now())
        return pending

    def _worth_rendering_ahead(self, claim: Claim) -> bool:
        """A full batch, none of it for a rate-limited channel: its pace, not rendering, sets
        how fast it goes (and batches claimed ahead would wait for it)."""
        return (
            bool(claim.deliveries)
            and claim.report.claimed >= self.batch
            and not any(d.channel in self.pacer.rates for d in claim.deliveries)
        )

    def _contents(self, pending: _Pending) -> Contents:
        """The batch's contents: from its rendering process, or rendered here (a small batch,
        or its process failed)."""
        if pending.future is not None and self.ahead is not None:
            try:
                return pending.future.result()
            except CancelledError:  # the processes were stopped or started afresh meanwhile
                pass
            except Exception as exc:
                if self._stop.is_set():  # stopped under it: the batch is handed back unsent
                    return {}
                self.ahead.failed(exc)
        with self.services.uow.transaction() as session:
            return self.render(session, pending.claim.deliveries)

    def _release_pending(self) -> None:
        """The batches this thread claimed ahead, due again for anyone (stopping)."""
        queue = self._queue()
        while queue:
            pending = queue.popleft()
            if pending.future is not None:
                pending.future.cancel()
            release_claim(self.services, pending.claim)

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
        self.close(wait=not any(thread.is_alive() for thread in self._threads))

    def close(self, wait: bool = True) -> None:
        """Stop the rendering processes, if any were started."""
        if self.ahead is not None:
            self.ahead.close(wait=wait)

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
        self._release_pending()


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
