"""Rendering the next batch in processes of their own while the worker sends the one before.

Rendering a personalised e-mail (the template for the person, tracked links, the text part)
costs more CPU than claiming, sending and recording it together, and Python runs one thread
of a process at a time. So when a mailing is large (a pass claims a full batch), the sending
thread claims the next batch at once and hands it to a rendering process, then sends the batch
before while that process renders: the two overlap on two cores. Each rendering process opens
its own connection to the database (it only reads: templates, the people, their vouchers) and
renders exactly as the sending thread would (:func:`lealta.channels.rendering.renderer`), at the
moment the sending thread gives it.

Nothing about sending changes: a claimed batch waits for its content, then goes out chunk by
chunk as always. A crash now leaves up to two batches ``claimed`` (never handed to a channel:
sent once the lease ends), and still at most one chunk ``sending``. Small batches (the queue's
tail, a trickle of transactional messages) are rendered in the sending thread: no process is
started for them, and they are not delayed by a round trip. Should a rendering process fail
(it died, or the database refused it), its batch is rendered in the sending thread and a new
process started for the next.

``LEALTA_RENDER_PROCESSES`` (default 1) sets how many; 0 renders in the sending thread always.
An in-memory SQLite database cannot be shared with another process: it is always rendered in
the sending thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import Rendered
from lealta.clock import FrozenClock
from lealta.config import Settings

log = logging.getLogger(__name__)

Contents = Mapping[int, Rendered | str]


def shareable(database_url: str) -> bool:
    """Whether another process can open the same database (not an in-memory SQLite one)."""
    if not database_url.startswith("sqlite"):
        return True
    path = database_url.partition("://")[2].lstrip("/")
    return bool(path) and ":memory:" not in database_url and "mode=memory" not in database_url


class RenderProcesses:
    """``processes`` rendering processes for one worker, started when first needed."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.batches = 0  # rendered in a rendering process

    def submit(self, deliveries: Sequence[Delivery], now: dt.datetime) -> Future[Contents]:
        """Start rendering ``deliveries`` as at ``now``; their contents (by outbox id) or the
        reason each cannot be rendered, when done."""
        with self._lock:
            if self._pool is None:
                log.info("starting %d rendering process(es) for a large mailing", self.processes)
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_open,
                    initargs=(self.settings,),
                )
            pool = self._pool
        future: Future[Contents] = pool.submit(_render, list(deliveries), now)
        future.add_done_callback(self._count)
        return future

    def _count(self, future: Future[Contents]) -> None:
        if not future.cancelled() and future.exception() is None:
            with self._lock:
                self.batches += 1

    def failed(self, error: BaseException) -> None:
        """A batch could not be rendered in a rendering process: start afresh next time."""
        log.warning("a rendering process failed (%s); rendering that batch here", error)
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self, wait: bool = True) -> None:
        """Stop the processes (they finish the batch they render; ``wait`` for that)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


# -- in the rendering process ------------------------------------------------------------------

_OPENED: dict[str, Any] = {}


def _open(settings: Settings) -> None:
    """A rendering process's start: its own connections to the database."""
    from lealta.storage.engine import make_engine
    from lealta.storage.unit_of_work import UnitOfWork

    _OPENED["settings"] = settings
    _OPENED["uow"] = UnitOfWork(make_engine(settings.database_url))


def _render(deliveries: Sequence[Delivery], now: dt.datetime) -> Contents:
    from lealta.channels.rendering import renderer

    uow = _OPENED["uow"]
    with uow.transaction() as session:
        return dict(renderer(_OPENED["settings"], FrozenClock(now))(session, deliveries))
