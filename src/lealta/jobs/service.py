"""Queueing, claiming and recording background jobs.

A job is asked for (:func:`enqueue`), claimed by one worker (:func:`claim`: the oldest queued
job; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE`` on SQLite, so two
workers never run the same job), moved along (:func:`report_progress`, each in its own short
transaction, which also proves the worker alive) and ended (:func:`finish`, :func:`fail`).

A running job whose heartbeat is older than ``stale_after`` is failed by the next worker that
looks (:func:`fail_stale`): the worker that ran it stopped. At most one job of a kind in
:data:`ONE_AT_A_TIME` is queued or running: asking again returns the one already there.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput, NotFound
from lealta.jobs.tables import ACTIVE, DONE, FAILED, QUEUED, RUNNING, Job, new_job_id
from lealta.storage.unit_of_work import UnitOfWork

KINDS = ("rfm", "loyalty_tiers", "audience_refresh", "next_best", "clv")
ONE_AT_A_TIME = frozenset({"rfm", "loyalty_tiers", "next_best", "clv"})
STALE_AFTER = dt.timedelta(minutes=5)
STOPPED = (
    "the worker running it stopped (no sign of life since {since:%Y-%m-%d %H:%M} UTC); "
    "ask again to start over"
)
MAX_LIMIT = 200


def enqueue(
    uow: UnitOfWork, *, kind: str, params: dict[str, Any], requested_by: str, now: dt.datetime
) -> tuple[Job, bool]:
    """Queue a ``kind`` job; returns it and whether it is new.

    For a kind that runs one at a time, the job already queued or running is returned instead
    (``False``), whoever asked for it.
    """
    if kind not in KINDS:
        raise InvalidInput(f"unknown job kind {kind!r}; known: {', '.join(KINDS)}", field="kind")
    for _attempt in range(5):
        with uow.transaction() as session:
            if kind in ONE_AT_A_TIME:
                found = _active(session, kind)
                if found is not None:
                    return found, False
        try:
            with uow.transaction() as session:
                job = Job(
                    id=new_job_id(),
                    kind=kind,
                    params=dict(params),
                    status=QUEUED,
                    progress=0.0,
                    step="Waiting to start",
                    requested_by=requested_by[:320],
                    only_one=kind if kind in ONE_AT_A_TIME else None,
                    created_at=now,
                )
                session.add(job)
                session.flush()
                return job, True
        except IntegrityError:
            continue  # another request queued one at the same moment: return that one
    raise AssertionError("a job was neither found nor queued")  # pragma: no cover


def get(session: Session, job_id: str) -> Job:
    """The job ``job_id``."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    return job


def latest(session: Session, kind: str) -> Job | None:
    """The most recently asked-for job of ``kind``, if any."""
    query = select(Job).where(Job.kind == kind).order_by(Job.created_at.desc(), Job.id.desc())
    return session.scalars(query.limit(1)).first()


def list_(session: Session, *, kind: str | None = None, limit: int = 20) -> list[Job]:
    """Jobs, latest first (only ``kind`` when given), at most ``limit``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def claim(uow: UnitOfWork, *, now: dt.datetime) -> Job | None:
    """Take the oldest queued job for this worker (``running``), or ``None`` when none waits.

    Never hands the same job to two workers: PostgreSQL skips rows another worker has locked;
    SQLite moves a job only if it is still queued, and tries the next one otherwise.
    """
    for _attempt in range(10):
        with uow.transaction() as session:
            oldest = (
                select(Job.id).where(Job.status == QUEUED).order_by(Job.created_at, Job.id).limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                oldest = oldest.with_for_update(skip_locked=True)
            job_id = session.scalars(oldest).first()
            if job_id is None:
                return None
            moved = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == QUEUED)
                .values(status=RUNNING, started_at=now, heartbeat_at=now, step="Starting")
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(Job, job_id, populate_existing=True)
    return None


def report_progress(
    uow: UnitOfWork, job_id: str, *, fraction: float, step: str, now: dt.datetime
) -> bool:
    """Record how far the running job is, in its own transaction; False if no longer running."""
    fraction = min(1.0, max(0.0, float(fraction)))
    with uow.transaction() as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == RUNNING)
            .values(progress=fraction, step=step[:200], heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]


def heartbeat(uow: UnitOfWork, job_id: str, *, now: dt.datetime) -> bool:
    """The running job's worker is alive (during a long step); False if no longer running."""
    with uow.transaction() as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == RUNNING)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]


def finish(uow: UnitOfWork, job_id: str, *, result: dict[str, Any], now: dt.datetime) -> bool:
    """The job succeeded with ``result``; False if it had been failed meanwhile (stale)."""
    return _end(uow, job_id, now, status=DONE, progress=1.0, step="Done", result=result, error=None)


def fail(uow: UnitOfWork, job_id: str, *, error: str, now: dt.datetime) -> bool:
    """The job failed with ``error`` (words for the person who asked)."""
    return _end(uow, job_id, now, status=FAILED, step="Failed", error=error[:4000])


def waiting(uow: UnitOfWork, *, now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER) -> bool:
    """Whether :func:`fail_stale` or :func:`claim` would find anything: a queued job, or a
    running one whose heartbeat is older than ``stale_after``.

    One indexed read through a plain connection, with a statement built once: a worker looks
    several times a second, and the two sessions and transactions of those two functions cost
    it about 1 ms a look when (nearly always) there is nothing to do.
    """
    with uow.engine.connect() as connection:
        found = connection.execute(_waiting_query(), {"stale_before": now - stale_after})
        return found.first() is not None


@functools.cache
def _waiting_query() -> Select[str]:
    stale = and_(Job.status == RUNNING, Job.heartbeat_at < bindparam("stale_before"))
    return select(Job.id).where(or_(Job.status == QUEUED, stale)).limit(1)


def fail_stale(
    uow: UnitOfWork, *, now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER
) -> int:
    """Fail every running job whose worker gave no sign of life for ``stale_after``."""
    failed = 0
    with uow.transaction() as session:
        stale = session.execute(
            select(Job.id, Job.heartbeat_at).where(
                Job.status == RUNNING, Job.heartbeat_at < now - stale_after
            )
        ).all()
        for job_id, since in stale:
            moved = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == RUNNING, Job.heartbeat_at == since)
                .values(
                    status=FAILED,
                    step="Failed",
                    error=STOPPED.format(since=_utc(since or now)),
                    finished_at=now,
                    only_one=None,
                )
                .execution_options(synchronize_session=False)
            )
            failed += moved.rowcount  # type: ignore[attr-defined]
    return failed


def _end(uow: UnitOfWork, job_id: str, now: dt.datetime, **values: Any) -> bool:
    with uow.transaction() as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE))
            .values(finished_at=now, heartbeat_at=now, only_one=None, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]


def _active(session: Session, kind: str) -> Job | None:
    return session.scalars(select(Job).where(Job.only_one == kind)).first()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
