"""The jobs service on SQLite and PostgreSQL: one RFM job at a time, claims never shared,
stale jobs failed in words."""

from __future__ import annotations

import datetime as dt
import threading

from lealta.jobs import service
from lealta.jobs.tables import Job
from lealta.storage.base import utcnow
from lealta.storage.unit_of_work import UnitOfWork


def _queued(uow: UnitOfWork, count: int, start: dt.datetime) -> list[str]:
    """``count`` queued jobs (not one-at-a-time, so several may wait), oldest first."""
    ids = []
    with uow.transaction() as session:
        for n in range(count):
            job = Job(
                kind="rfm",
                params={},
                status="queued",
                progress=0.0,
                step="",
                requested_by="test",
                created_at=start + dt.timedelta(seconds=n),
            )
            session.add(job)
            session.flush()
            ids.append(job.id)
    return ids


def test_asking_twice_for_rfm_returns_the_job_under_way(uow: UnitOfWork) -> None:
    now = utcnow()
    first, new = service.enqueue(uow, kind="rfm", params={}, requested_by="ana", now=now)
    again, new_again = service.enqueue(uow, kind="rfm", params={}, requested_by="ben", now=now)
    assert (new, new_again) == (True, False)
    assert again.id == first.id
    assert again.requested_by == "ana"
    claimed = service.claim(uow, now=now)
    assert claimed is not None
    assert claimed.id == first.id
    running, _ = service.enqueue(uow, kind="rfm", params={}, requested_by="ben", now=now)
    assert running.id == first.id  # running counts as under way too
    assert service.finish(uow, first.id, result={"customers": 1}, now=now)
    later, new_later = service.enqueue(uow, kind="rfm", params={}, requested_by="ben", now=now)
    assert new_later
    assert later.id != first.id


def test_asking_at_the_same_moment_from_many_threads_queues_one_job(uow: UnitOfWork) -> None:
    now = utcnow()
    got: list[str] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        barrier.wait()
        job, _new = service.enqueue(uow, kind="rfm", params={}, requested_by="t", now=now)
        got.append(job.id)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 6
    assert len(set(got)) == 1
    with uow.transaction() as session:
        assert len(service.list_(session, kind="rfm")) == 1


def test_workers_claiming_at_once_never_share_a_job(uow: UnitOfWork) -> None:
    now = utcnow()
    ids = _queued(uow, 5, now - dt.timedelta(minutes=1))
    claimed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        while (job := service.claim(uow, now=now)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    with uow.transaction() as session:
        assert {j.status for j in service.list_(session)} == {"running"}


def test_the_oldest_queued_job_is_claimed_first(uow: UnitOfWork) -> None:
    now = utcnow()
    ids = _queued(uow, 3, now - dt.timedelta(minutes=5))
    order = [service.claim(uow, now=now) for _ in range(4)]
    assert [j.id if j else None for j in order] == [*ids, None]


def test_a_running_job_without_heartbeat_is_failed_in_words(uow: UnitOfWork) -> None:
    start = utcnow()
    job, _ = service.enqueue(uow, kind="rfm", params={}, requested_by="ana", now=start)
    assert service.claim(uow, now=start) is not None
    assert service.report_progress(
        uow, job.id, fraction=0.4, step="Scoring customers", now=start + dt.timedelta(minutes=1)
    )
    assert service.fail_stale(uow, now=start + dt.timedelta(minutes=5)) == 0  # 4 min: alive
    assert service.fail_stale(uow, now=start + dt.timedelta(minutes=7)) == 1
    with uow.transaction() as session:
        failed = service.get(session, job.id)
        assert failed.status == "failed"
        assert failed.error is not None
        assert "the worker running it stopped" in failed.error
        assert failed.progress == 0.4  # how far it got stays visible
    # a late word from the stopped worker changes nothing, and RFM can be asked for again
    assert not service.report_progress(uow, job.id, fraction=0.9, step="x", now=start)
    assert not service.finish(uow, job.id, result={}, now=start)
    again, new = service.enqueue(uow, kind="rfm", params={}, requested_by="ana", now=start)
    assert new
    assert again.id != job.id


def test_progress_is_kept_between_zero_and_one_and_jobs_list_latest_first(uow: UnitOfWork) -> None:
    now = utcnow()
    ids = _queued(uow, 3, now - dt.timedelta(minutes=1))
    job = service.claim(uow, now=now)
    assert job is not None
    service.report_progress(uow, job.id, fraction=1.7, step="Saving 3 customers", now=now)
    with uow.transaction() as session:
        assert service.get(session, job.id).progress == 1.0
        assert [j.id for j in service.list_(session, limit=2)] == [ids[2], ids[1]]
        assert service.latest(session, "rfm") is not None
        assert service.latest(session, "other") is None


def test_a_look_for_work_finds_queued_jobs_and_stale_running_ones_only(uow: UnitOfWork) -> None:
    start = utcnow()
    assert not service.waiting(uow, now=start)
    job, _ = service.enqueue(uow, kind="rfm", params={}, requested_by="ana", now=start)
    assert service.waiting(uow, now=start)  # queued
    assert service.claim(uow, now=start) is not None
    assert not service.waiting(uow, now=start + dt.timedelta(minutes=4))  # running, alive
    assert service.waiting(uow, now=start + dt.timedelta(minutes=6))  # running, stale
    assert service.fail_stale(uow, now=start + dt.timedelta(minutes=6)) == 1
    assert not service.waiting(uow, now=start + dt.timedelta(minutes=6))  # failed: done with
    with uow.transaction() as session:
        assert service.get(session, job.id).status == "failed"
