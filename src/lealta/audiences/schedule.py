"""Refreshing audiences in the background: on a schedule, after each RFM recomputation, and
as a job asked for from the API, the CLI or the console.

* **On a schedule** (``audiences_refresh_every`` seconds, default 300; ``0``: never): the
  worker refreshes every audience that is not archived. Rules with windows ("no purchase in
  90 days") change by time passing alone, so they need it whatever happens; tracked events
  move their people at once (:mod:`lealta.audiences.live`), and the pass catches what
  changed otherwise (edits through the API, imports, reviews, orders).
  Each pass is recorded as one ``audience_refresh`` row of the jobs table kept up to date
  (:data:`MARK`): ``lealta jobs`` and the console's Jobs page show when it last ran and what
  moved.
* **After an RFM recomputation**: the audiences whose rules read the RFM segment, cluster or
  scores (:func:`lealta.audiences.definition.rfm_bound`).
* **As a job** (kind ``audience_refresh``, params ``{"audience": NAME}`` or ``{}`` for all):
  ``POST /v1/audiences/{id}/refresh`` and ``lealta audiences refresh --background``.

Audiences are refreshed one per transaction, those another refers to first (an audience
condition reads the members as of the latest refresh). Refreshing is exactly-once by
construction (see :mod:`lealta.audiences.membership`), so two workers passing at once cost
time, never double events.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.audiences import service
from lealta.audiences.definition import referred, rfm_bound
from lealta.audiences.membership import Refreshed, refresh
from lealta.audiences.tables import Audience
from lealta.jobs.tables import DONE, Job

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
KIND = "audience_refresh"
MARK = "audience-refresh-scheduled"
WORKER = "lealta worker"
Progress = Callable[[float, str], None]


def ordered(audiences: Iterable[Audience]) -> list[Audience]:
    """``audiences`` with each one after the audiences it refers to (by name)."""
    by_name = {audience.name: audience for audience in audiences}
    done: list[Audience] = []
    placed: set[str] = set()

    def place(name: str, path: frozenset[str]) -> None:
        if name in placed or name not in by_name or name in path:
            return  # saved definitions never go round in a circle; stay safe if they did
        for needed in sorted(referred(by_name[name].condition)):
            place(needed, path | {name})
        placed.add(name)
        done.append(by_name[name])

    for name in sorted(by_name):
        place(name, frozenset())
    return done


def refresh_many(
    services: Services,
    *,
    names: Iterable[str] | None = None,
    only: Callable[[Audience], bool] | None = None,
    progress: Progress | None = None,
) -> list[Refreshed]:
    """Refresh the audiences named (every one not archived by default; those ``only``
    accepts), each in its own transaction, those referred to first."""
    from lealta.storage.retry import in_transaction

    with services.uow.transaction() as session:
        wanted = set(names) if names is not None else None
        chosen = [
            audience.id
            for audience in ordered(service.list_(session))
            if (wanted is None or audience.name in wanted) and (only is None or only(audience))
        ]
    done: list[Refreshed] = []
    for position, audience_id in enumerate(chosen):

        def work(session: Session, audience_id: int = audience_id) -> Refreshed:
            audience = session.get(Audience, audience_id)
            assert audience is not None
            return refresh(session, audience, now=services.clock.now())

        if progress is not None:
            progress(position / len(chosen), f"Refreshing audience {position + 1} of {len(chosen)}")
        done.append(in_transaction(services.uow, work))
    if progress is not None:
        progress(1.0, f"Refreshed {len(done):,} audiences")
    return done


def summary(done: list[Refreshed]) -> dict[str, Any]:
    """What refreshes did, for a job's result."""
    return {
        "audiences": len(done),
        "entered": sum(r.entered for r in done),
        "exited": sum(r.exited for r in done),
        "members": sum(r.size for r in done),
        "seconds": round(sum(r.seconds for r in done), 3),
        "sizes": {r.name: r.size for r in done},
    }


def run_job(services: Services, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The ``audience_refresh`` job: the audience named in ``params`` (all when none)."""
    name = params.get("audience")
    if name:
        with services.uow.transaction() as session:
            name = service.get(session, str(name)).name  # NotFound: failed job in words
    done = refresh_many(services, names=[name] if name else None, progress=progress)
    return summary(done)


def after_rfm(services: Services) -> list[Refreshed]:
    """Refresh the audiences whose rules read RFM (after a recomputation saved it)."""
    return refresh_many(services, only=lambda audience: rfm_bound(audience.condition))


def _write_mark(session: Session, now: dt.datetime, result: dict[str, Any]) -> None:
    row = session.scalars(
        select(Job).where(Job.id == MARK).execution_options(populate_existing=True)
    ).first()
    if row is None:
        row = Job(id=MARK, kind=KIND, params={}, requested_by=WORKER, created_at=now)
        session.add(row)
    row.params = {"scope": "scheduled"}
    row.status, row.progress, row.step = DONE, 1.0, "Done"
    row.created_at = row.started_at = row.finished_at = row.heartbeat_at = now
    row.result = result
    session.flush()


class AudienceSchedule:
    """The worker's scheduled refreshes (see the module docstring); :meth:`run_if_due` is
    called from the worker's loop and never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._last: float | None = None

    def run_if_due(self) -> list[Refreshed] | None:
        """Refresh every audience when ``audiences_refresh_every`` seconds have passed since
        this worker's last pass (the first pass refreshes at once)."""
        every = self.services.settings.audiences_refresh_every
        if every <= 0:
            return None
        if self._last is not None and time.monotonic() - self._last < every:
            return None
        self._last = time.monotonic()
        try:
            done = refresh_many(self.services)
            if done:
                with self.services.uow.transaction() as session:
                    _write_mark(session, self.services.clock.now(), summary(done))
            return done
        except Exception:
            log.exception("refreshing the audiences failed; trying again at the next pass")
            return None
