"""The worker loop: apply tracked events, advance due workflow runs, deliver the outbox, and run
the inactivity sweep; inside ``lealta serve`` (a thread) or as ``lealta worker`` (a process)."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping

from lealta.automations.runner import advance_due
from lealta.automations.schedules import run_time_triggers
from lealta.bootstrap import Services
from lealta.channels.base import Channel
from lealta.channels.sender import Sender
from lealta.feedback import rollup
from lealta.jobs.worker import JobWorker
from lealta.lifecycle.service import sweep_inactive
from lealta.rulesets.service import lifecycle_model
from lealta.storage.retry import in_transaction
from lealta.tracking.processor import process_pending

log = logging.getLogger(__name__)
SWEEP_EVERY = 3600.0
YOUNG_OBJECTS = 20_000  # allocations between the collector's young passes (Python's: 700)
_tuned = threading.Lock()


class Processor:
    """Applies tracked messages as they arrive (woken by :meth:`notify`, polling every second
    for messages other processes accepted) and runs the hourly inactivity sweep."""

    def __init__(
        self,
        services: Services,
        *,
        poll: float = 1.0,
        channels: Mapping[str, Channel] | None = None,
    ) -> None:
        self.services = services
        self.channels = dict(channels or {})
        # delivering the outbox waits on networks: a thread of its own
        self.sender = Sender(services, self.channels, poll=poll) if self.channels else None
        self.poll = poll
        self.jobs = JobWorker(services, poll=poll)  # background jobs: a thread of their own
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep: float | None = None
        self._last_minute: float | None = None
        self._last_rollup: float | None = None

    def start(self) -> None:
        """Start the loop in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="lealta-processor", daemon=True)
        self._thread.start()
        if self.sender is not None:
            self.sender.start()
        self.jobs.start()

    def notify(self) -> None:
        """New messages are waiting."""
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current batch and stop, within ``timeout`` seconds in all.

        Every loop is told to stop first, so they finish side by side; then each is waited
        for until one shared deadline, instead of each for the whole ``timeout`` in turn.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._wake.set()
        if self.sender is not None:
            self.sender.stop(0)  # told, not waited for yet
        self.jobs.stop(0)

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        if self._thread is not None:
            self._thread.join(left())
        if self.sender is not None:
            self.sender.stop(left())
        self.jobs.stop(left())

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until the inbox was found empty after the last notify (tests, shutdown)."""
        return self._idle.wait(timeout)

    def run(self) -> None:
        """The loop: drain, sweep when due, sleep until woken or polled."""
        tune_collector()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                while not self._stop.is_set() and process_pending(self.services):
                    pass
                while not self._stop.is_set() and advance_due(self.services):
                    if self.sender is not None:
                        self.sender.notify()
                self._idle.set()
                self._sweep_if_due()
                self._time_triggers_if_due()
                self._rollup_if_due()
            except Exception:
                log.exception("the processor loop failed; retrying shortly")
                time.sleep(self.poll)
            self._wake.wait(self.poll)

    def _time_triggers_if_due(self) -> None:
        if self._last_minute is not None and time.monotonic() - self._last_minute < 30:
            return
        self._last_minute = time.monotonic()
        now = self.services.clock.now()
        started = in_transaction(self.services.uow, lambda s: run_time_triggers(s, now=now))
        if started:
            log.info("time triggers started runs: %s", started)

    def _rollup_if_due(self) -> None:
        # the reports' daily rollup: the days touched since the last run, once a minute
        if self._last_rollup is not None and time.monotonic() - self._last_rollup < 60:
            return
        self._last_rollup = time.monotonic()
        now = self.services.clock.now()
        in_transaction(self.services.uow, lambda s: rollup.sweep(s, now=now))

    def _sweep_if_due(self) -> None:
        if self._last_sweep is not None and time.monotonic() - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = time.monotonic()
        now = self.services.clock.now()
        moved = in_transaction(
            self.services.uow, lambda s: sweep_inactive(s, lifecycle_model(s), now=now)
        )
        if moved:
            log.info("inactivity sweep moved %d contacts", moved)


def tune_collector() -> None:
    """Spare the processor most of the garbage collector's passes (once per process).

    Applying a batch makes many short-lived objects (profiles, events, rows), so Python's
    collector ran every 700 allocations and, every hundred such passes, walked every object of
    the process: modules, mappers, compiled statements, which are never garbage. Those are
    moved out of its sight (``gc.freeze``) and young passes run every ``YOUNG_OBJECTS``
    allocations: about a tenth of the processor's CPU on the ingestion benchmark.
    """
    if not _tuned.acquire(blocking=False):
        return  # tuned already: freezing again would keep later garbage forever
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_OBJECTS), middle, old)
