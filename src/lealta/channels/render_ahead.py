"""Rendering the next batch in processes of their own while the worker sends the one before.

Rendering a personalised e-mail (the template for the person, tracked links, the text part)
costs more CPU than claiming, sending and recording it together, and Python runs one thread
of a process at a time. So when a mailing is large (a pass claims a full batch), the sending
thread claims the next batches at once (up to :data:`~lealta.channels.sender.AHEAD`) and hands
them to a rendering process, then sends the batch before while that process renders: the two
overlap on two cores. Each rendering process opens
its own connection to the database (it only reads: templates, the people, their vouchers) and
renders exactly as the sending thread would (:func:`lealta.channels.rendering.renderer`), at the
moment the sending thread gives it.

Nothing about sending changes: a claimed batch waits for its content, then goes out chunk by
chunk as always. A crash now leaves up to three batches ``claimed`` (never handed to a channel:
sent once the lease ends), and still at most one chunk ``sending``. Small batches (the queue's
tail, a trickle of transactional messages) are rendered in the sending thread: no process is
started for them, and they are not delayed by a round trip. Should a rendering process fail
(it died, or the database refused it), its batch is rendered in the sending thread and a new
process started for the next.

``LEALTA_RENDER_PROCESSES`` (default 1) sets how many; 0 renders in the sending thread always.
An in-memory SQLite database cannot be shared with another process: it is always rendered in
the sending thread.

A rendering process also builds each rendered e-mail (its MIME bytes, for the sender in the
settings; :func:`lealta.channels.email.compose_ahead`), which the e-mail channel then sends as
it is. Each rendering process is ``python -m lealta.channels.render_ahead``, talking over its
standard input and output: the settings first, then one batch after another, each a pickle (the
deliveries and the moment in, the contents out). It imports only Lealta, never the program
that started the worker (``multiprocessing``'s spawn would import that program's main script
again, and a script without an ``if __name__ == "__main__"`` guard would start a worker in
every rendering process), and nothing it would inherit by forking a process with threads.
It ends when its input closes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import IO, Any

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
    """``processes`` rendering processes for one worker, started when first needed.

    Each is driven by a thread of its own here, which hands it a batch and waits for the
    contents (the wait releases the interpreter to the sending thread)."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._pool: ThreadPoolExecutor | None = None
        self._children: list[subprocess.Popen[bytes]] = []
        self._local = threading.local()  # each driving thread's process
        self._lock = threading.Lock()
        self.batches = 0  # rendered in a rendering process

    def submit(self, deliveries: Sequence[Delivery], now: dt.datetime) -> Future[Contents]:
        """Start rendering ``deliveries`` as at ``now``; their contents (by outbox id) or the
        reason each cannot be rendered, when done."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.processes, "lealta-render")
            pool = self._pool
        # plain tuples: a pickled dataclass costs several times more to read back
        batch = [
            (
                *(d.outbox_id, d.idempotency_key, d.contact_id, d.channel, d.template),
                *(d.payload, d.recipient),
            )
            for d in deliveries
        ]
        return pool.submit(self._render, batch, now)

    def _render(self, deliveries: list[tuple[Any, ...]], now: dt.datetime) -> Contents:
        child: subprocess.Popen[bytes] | None = getattr(self._local, "child", None)
        if child is None or child.poll() is not None:
            child = self._local.child = self._start()
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            pickle.dump((deliveries, now), child.stdin, pickle.HIGHEST_PROTOCOL)
            child.stdin.flush()
            answer = pickle.load(child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            child.kill()
            child.wait()
            raise RuntimeError(f"the rendering process {child.pid} stopped: {exc}") from exc
        if isinstance(answer, BaseException):
            raise answer
        with self._lock:
            self.batches += 1
        contents: Contents = answer
        return contents

    def _start(self) -> subprocess.Popen[bytes]:
        log.info("starting a rendering process for a large mailing")
        child = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None
        pickle.dump(self.settings, child.stdin, pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._children.append(child)
        return child

    def failed(self, error: BaseException) -> None:
        """A batch could not be rendered in a rendering process (the next batch starts a new
        process if that one stopped)."""
        log.warning("a rendering process failed (%s); rendering that batch here", error)

    def close(self, wait: bool = True) -> None:
        """Stop the processes once they have rendered the batch in hand (``wait`` for that)."""
        with self._lock:
            pool, self._pool = self._pool, None
            children, self._children = self._children, []
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        for child in children:
            if child.stdin is not None:
                with contextlib.suppress(OSError):
                    child.stdin.close()  # its input ends: it exits
            if wait:
                child.wait()
            if child.stdout is not None:
                child.stdout.close()


# -- in the rendering process ------------------------------------------------------------------


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Render batch after batch read from ``requests`` until it ends."""
    from lealta.channels.rendering import renderer
    from lealta.storage.engine import make_engine
    from lealta.storage.unit_of_work import UnitOfWork

    settings: Settings = pickle.load(requests)
    uow = UnitOfWork(make_engine(settings.database_url))
    try:
        while True:
            try:
                batch, now = pickle.load(requests)
            except EOFError:
                return
            deliveries = [Delivery(*values) for values in batch]
            answer: Any
            try:
                with uow.transaction() as session:
                    answer = dict(renderer(settings, FrozenClock(now))(session, deliveries))
                composed_ahead(deliveries, answer, settings, now)
            except Exception as exc:  # the whole batch: the sending thread renders it instead
                answer = RuntimeError(f"{type(exc).__name__}: {exc}")
            pickle.dump(answer, answers, pickle.HIGHEST_PROTOCOL)
            answers.flush()
    finally:
        uow.engine.dispose()


def composed_ahead(
    deliveries: Sequence[Delivery],
    contents: dict[int, Rendered | str],
    settings: Settings,
    now: dt.datetime,
) -> None:
    """Each rendered e-mail built too (its bytes under ``composed`` in its content), so the
    sending thread only hands it to the relay."""
    from lealta.channels.email import COMPOSED, compose_ahead

    for delivery in deliveries:
        content = contents.get(delivery.outbox_id)
        if delivery.channel == "email" and isinstance(content, dict):
            built = compose_ahead(replace(delivery, content=content), settings, now)
            if built is not None:
                content[COMPOSED] = built


def main() -> None:
    """``python -m lealta.channels.render_ahead``: serve on standard input and output (what
    anything prints goes to standard error, so it cannot break an answer)."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
