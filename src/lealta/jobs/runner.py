"""Running a claimed job by its kind, with its progress written as it goes.

The work calls ``progress(fraction, step)``; a :class:`Reporter` thread writes the latest of
those (at most twice a second, each in its own short transaction) and a heartbeat every
:data:`HEARTBEAT` seconds during a long step, so the job is seen alive. The work never waits
for those writes: on SQLite a step that holds the write lock (saving the results) is seen
when it commits. A job that raises is stored as failed with its error in words.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from lealta.bootstrap import Services
from lealta.errors import LealtaError
from lealta.jobs import service
from lealta.jobs.tables import Job

log = logging.getLogger(__name__)
HEARTBEAT = 15.0
EVERY = 0.5

Progress = Callable[[float, str], None]
Work = Callable[[Services, dict[str, Any], Progress], dict[str, Any]]


def run_rfm(services: Services, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Recompute RFM on the store (as ``POST /v1/segmentation/rfm``), clusters optional."""
    from lealta.segmentation.store import rfm_from_store, segment_counts

    frame = rfm_from_store(services, clusters=params.get("clusters"), progress=progress)
    counts = segment_counts(frame)
    info = frame.attrs.get("lealta", {})
    return {
        "as_of": info.get("as_of"),
        "customers": len(frame),
        "segments": [{"segment": name, "customers": n} for name, n in counts.items()],
        "clusters": info.get("k"),
    }


def run_loyalty_tiers(
    services: Services, _params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Review every customer's tier under the programme in force (as "Review tiers now" in
    the console, :func:`lealta.loyalty.service.apply_program`); fails when there is none."""
    from lealta.loyalty.service import apply_program

    review = apply_program(services, progress=progress)
    if review is None:
        raise LealtaError("there is no loyalty programme to review the tiers by")
    return {
        "version": review.version,
        "as_of": review.as_of.isoformat(),
        "customers": review.customers,
        "members": sum(review.tiers.values()),
        "tiers": review.tiers,
        "upgraded": review.upgraded,
        "downgraded": review.downgraded,
        "at_risk": review.at_risk,
        "seconds": round(review.seconds, 3),
    }


def run_audience_refresh(
    services: Services, params: dict[str, Any], progress: Progress
) -> dict[str, Any]:
    """Refresh one saved audience (``params["audience"]``) or every one
    (:func:`lealta.audiences.schedule.run_job`)."""
    from lealta.audiences.schedule import run_job

    return run_job(services, params, progress)


def run_next_best(services: Services, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Every contact's next-best items from the store's orders
    (:func:`lealta.affinity.schedule.run_job`)."""
    from lealta.affinity.schedule import run_job

    return run_job(services, params, progress)


def run_clv(services: Services, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Every contact's predicted value and churn risk (:func:`lealta.prediction.job.run_job`)."""
    from lealta.prediction.job import run_job

    return run_job(services, params, progress)


KINDS: dict[str, Work] = {
    "rfm": run_rfm,
    "loyalty_tiers": run_loyalty_tiers,
    "audience_refresh": run_audience_refresh,
    "next_best": run_next_best,
    "clv": run_clv,
}


class Reporter:
    """Writes a running job's latest progress and heartbeat from a thread of its own."""

    def __init__(self, services: Services, job_id: str, *, heartbeat: float = HEARTBEAT) -> None:
        self.services = services
        self.job_id = job_id
        self.heartbeat = heartbeat
        self._latest: tuple[float, str] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lealta-job-{job_id}", daemon=True)

    def __enter__(self) -> Reporter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(60)

    def __call__(self, fraction: float, step: str) -> None:
        """The work's progress: remembered, written shortly."""
        with self._lock:
            self._latest = (fraction, step)
        self._wake.set()

    def _run(self) -> None:
        last_write = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(self.heartbeat)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                latest, self._latest = self._latest, None
            try:
                now = self.services.clock.now()
                if latest is not None:
                    service.report_progress(
                        self.services.uow, self.job_id, fraction=latest[0], step=latest[1], now=now
                    )
                elif time.monotonic() - last_write >= self.heartbeat:
                    service.heartbeat(self.services.uow, self.job_id, now=now)
                else:
                    continue
                last_write = time.monotonic()
            except Exception:  # a busy database: the next progress or heartbeat tries again
                log.debug("could not record job %s's progress", self.job_id, exc_info=True)
                if latest is not None:
                    with self._lock:
                        self._latest = self._latest or latest
            self._stop.wait(EVERY)


def run(services: Services, job: Job, *, kinds: dict[str, Work] | None = None) -> bool:
    """Run the claimed ``job``; stored as done with its result, or failed with its error.

    Returns True when it succeeded. Never raises for a failure of the work itself.
    """
    work = (kinds or KINDS).get(job.kind)
    try:
        if work is None:
            raise LealtaError(f"this worker cannot run jobs of kind {job.kind!r}")
        with Reporter(services, job.id) as reporter:
            result = work(services, dict(job.params or {}), reporter)
    except LealtaError as problem:
        log.warning("job %s (%s) failed: %s", job.id, job.kind, problem)
        service.fail(services.uow, job.id, error=str(problem), now=services.clock.now())
        return False
    except Exception as problem:
        log.exception("job %s (%s) failed", job.id, job.kind)
        error = f"an unexpected error stopped it ({type(problem).__name__}: {problem})"
        service.fail(services.uow, job.id, error=error, now=services.clock.now())
        return False
    if not service.finish(services.uow, job.id, result=result, now=services.clock.now()):
        log.warning("job %s finished after it had been given up as stopped", job.id)
    log.info("job %s (%s) done", job.id, job.kind)
    return True


def run_next(services: Services, *, kinds: dict[str, Work] | None = None) -> Job | None:
    """Fail stale jobs, then claim and run the oldest queued job; the job run, or ``None``
    (at once when :func:`service.waiting` finds neither kind of job)."""
    if not service.waiting(services.uow, now=services.clock.now()):
        return None
    service.fail_stale(services.uow, now=services.clock.now())
    job = service.claim(services.uow, now=services.clock.now())
    if job is None:
        return None
    run(services, job, kinds=kinds)
    return job
