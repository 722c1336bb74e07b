"""The jobs loop: claims queued jobs and runs them, one at a time, in a thread of its own (a
recomputation may take minutes; tracked events keep flowing beside it). Started by the
worker's :class:`lealta.tracking.worker.Processor`."""

from __future__ import annotations

import logging
import threading

from lealta.affinity.schedule import NextBestSchedule
from lealta.audiences.schedule import AudienceSchedule
from lealta.bootstrap import Services
from lealta.jobs.runner import run_next
from lealta.loyalty.points_sweeps import PointsSchedule
from lealta.loyalty.schedule import LoyaltySchedule
from lealta.prediction.schedule import CLVSchedule
from lealta.retargeting.sync import AdSyncSchedule

log = logging.getLogger(__name__)


class JobWorker:
    """Runs queued jobs until stopped, looking for new ones every ``poll`` seconds."""

    def __init__(self, services: Services, *, poll: float = 1.0) -> None:
        self.services = services
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # the scheduled loyalty reviews are long like jobs: they share this thread
        self.loyalty = LoyaltySchedule(services)
        self.points = PointsSchedule(services)  # the loyalty points sweep, every 5 minutes
        self.audiences = AudienceSchedule(services)  # audience refreshes, every 5 minutes
        self.next_best = NextBestSchedule(services)  # queues next_best jobs (after RFM, daily)
        self.ad_syncs = AdSyncSchedule(services)  # ad audience webhooks, every 30 seconds
        self.clv = CLVSchedule(services)  # queues clv jobs (weekly by default)

    def start(self) -> None:
        """Start the loop in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="lealta-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current job (a job still running then is failed as stale later)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Run jobs while there are some, then wait ``poll`` seconds; never dies of a job."""
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and run_next(self.services) is not None:
                    pass
            except Exception:
                log.exception("the jobs loop failed; retrying shortly")
            if not self._stop.is_set():
                self.loyalty.run_if_due()
                self.points.run_if_due()
                self.audiences.run_if_due()
                self.next_best.run_if_due()
                self.ad_syncs.run_if_due()
                self.clv.run_if_due()
            self._stop.wait(self.poll)
