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

A rendering process also builds each rendered e-mail (its MIME bytes, for the e-mail channel's
sender and Reply-To; :func:`lealta.channels.email.compose_ahead`) and hands back that e-mail
alone, which the e-mail channel then sends as it is. Each rendering process is
``python -m lealta.channels.render_ahead``, talking over its standard input and output: the
settings and the sender first, then one batch after another, each a pickle (the deliveries and
the moment in, the contents out). A batch is written to the process as soon as it is claimed,
so the process finds the next batch waiting when it finishes one, and its pipes are widened to
hold a whole batch (on Linux), so it never waits for the worker to read its answer. It imports
only Lealta, never the program that started the worker (``multiprocessing``'s spawn would
import that program's main script again, and a script without an ``if __name__ ==
"__main__"`` guard would start a worker in every rendering process), and nothing it would
inherit by forking a process with threads.
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
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import Rendered
from lealta.clock import FrozenClock
from lealta.config import Settings

if TYPE_CHECKING:
    from lealta.channels.email import Mailbox

log = logging.getLogger(__name__)

Contents = Mapping[int, Rendered | str]
# A pipe's size, enough for a batch's answer (Linux's default cap for a process without
# privileges, /proc/sys/fs/pipe-max-size).
PIPE_SIZE = 1 << 20


def shareable(database_url: str) -> bool:
    """Whether another process can open the same database (not an in-memory SQLite one)."""
    if not database_url.startswith("sqlite"):
        return True
    path = database_url.partition("://")[2].lstrip("/")
    return bool(path) and ":memory:" not in database_url and "mode=memory" not in database_url


def composing_for(channels: Mapping[str, Any]) -> tuple[Mailbox, Mailbox | None] | None:
    """The sender and Reply-To of the e-mail channel among ``channels``, for which rendering
    processes build the e-mails they render; ``None`` when it is not Lealta's SMTP channel
    (another channel gets the rendered content)."""
    from lealta.channels.email import EmailChannel

    channel = channels.get("email")
    if isinstance(channel, EmailChannel):
        return channel.sender, channel.reply_to
    return None


class RenderProcesses:
    """``processes`` rendering processes for one worker, started when first needed.

    A batch is written to a process as soon as it is submitted, so a process always has the
    next batch in hand when it finishes one; a thread of its own here reads its answers in
    order (the read releases the interpreter to the sending thread). ``compose_for`` (the
    e-mail channel's sender and Reply-To) makes the processes build each rendered e-mail too;
    its content is then that e-mail alone, the only thing sending it needs."""

    def __init__(
        self,
        settings: Settings,
        processes: int,
        compose_for: tuple[Mailbox, Mailbox | None] | None = None,
    ) -> None:
        self.settings = settings
        self.processes = processes
        self.compose_for = compose_for
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self.batches = 0  # rendered in a rendering process

    def submit(self, deliveries: Sequence[Delivery], now: dt.datetime) -> Future[Contents]:
        """Start rendering ``deliveries`` as at ``now``; their contents (by outbox id) or the
        reason each cannot be rendered, when done."""
        # plain tuples: a pickled dataclass costs several times more to read back
        batch = [
            (
                *(d.outbox_id, d.idempotency_key, d.contact_id, d.channel, d.template),
                *(d.payload, d.recipient),
            )
            for d in deliveries
        ]
        try:
            child = self._child()
        except OSError as exc:  # no process could be started: the sending thread renders it
            failed: Future[Contents] = Future()
            failed.set_exception(RuntimeError(f"no rendering process could be started: {exc}"))
            return failed
        return child.submit(batch, now)

    def _child(self) -> _Child:
        """The running process with the fewest batches in hand (one started in place of a
        process that stopped, or while there are fewer than ``processes``)."""
        with self._lock:
            self._children = [child for child in self._children if child.running()]
            if len(self._children) < self.processes:
                self._children.append(_Child(self.settings, self.compose_for, self._rendered))
            return min(self._children, key=_Child.in_hand)

    def _rendered(self) -> None:
        with self._lock:
            self.batches += 1

    def failed(self, error: BaseException) -> None:
        """A batch could not be rendered in a rendering process (the next batch starts a new
        process if that one stopped)."""
        log.warning("a rendering process failed (%s); rendering that batch here", error)

    def close(self, wait: bool = True) -> None:
        """Stop the processes once they have rendered the batches in hand (``wait`` for that);
        batches not rendered by then fail (their futures say the process stopped)."""
        with self._lock:
            children, self._children = self._children, []
        for child in children:
            child.close(wait)


class _Child:
    """One rendering process: batches written to it as they come, its answers read in order
    by a thread of its own, each resolving the oldest batch's future."""

    def __init__(
        self,
        settings: Settings,
        compose_for: tuple[Mailbox, Mailbox | None] | None,
        rendered: Callable[[], None],
    ) -> None:
        log.info("starting a rendering process for a large mailing")
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._requests, self._answers = self.process.stdin, self.process.stdout
        for pipe in (self._requests, self._answers):
            _widen(pipe)
        self._waiting: deque[Future[Contents]] = deque()
        self._lock = threading.Lock()
        self._rendered = rendered
        pickle.dump((settings, compose_for), self._requests, pickle.HIGHEST_PROTOCOL)
        self._requests.flush()
        self._reader = threading.Thread(
            target=self._read, name=f"lealta-render-{self.process.pid}", daemon=True
        )
        self._reader.start()

    def running(self) -> bool:
        return self.process.poll() is None and self._reader.is_alive()

    def in_hand(self) -> int:
        return len(self._waiting)

    def submit(self, batch: list[tuple[Any, ...]], now: dt.datetime) -> Future[Contents]:
        future: Future[Contents] = Future()
        with self._lock:
            self._waiting.append(future)
            try:
                pickle.dump((batch, now), self._requests, pickle.HIGHEST_PROTOCOL)
                self._requests.flush()
            except (OSError, ValueError) as exc:  # it stopped: its reader fails what it had
                self._waiting.remove(future)
                future.set_exception(RuntimeError(f"the rendering process stopped: {exc}"))
        return future

    def _read(self) -> None:
        while True:
            try:
                answer = pickle.load(self._answers)
            except (OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
                self._stopped(exc)
                return
            with self._lock:
                future = self._waiting.popleft()
            if not future.set_running_or_notify_cancel():
                continue  # handed back meanwhile (the worker is stopping)
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                self._rendered()
                future.set_result(answer)

    def _stopped(self, error: BaseException) -> None:
        """The process ended (or its answer could not be read): it is stopped for good, and
        every batch it had is failed, to be rendered in the sending thread."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._answers.close()
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
            with contextlib.suppress(OSError):
                self._requests.close()
        for future in waiting:
            if future.set_running_or_notify_cancel():
                future.set_exception(
                    RuntimeError(f"the rendering process {self.process.pid} stopped: {error}")
                )

    def close(self, wait: bool) -> None:
        with self._lock, contextlib.suppress(OSError):
            self._requests.close()  # its input ends: it exits once it has answered
        if wait:
            self.process.wait()
            self._reader.join()
        else:
            self.process.kill()


def _widen(pipe: IO[bytes]) -> None:
    """Let a pipe hold a whole batch (Linux; elsewhere pipes keep their size): a process
    writing its answer then goes on to the next batch without waiting for this side to read,
    which needs the interpreter the sending thread holds."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)


# -- in the rendering process ------------------------------------------------------------------


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Render batch after batch read from ``requests`` until it ends."""
    from lealta.channels.rendering import renderer
    from lealta.storage.engine import make_engine
    from lealta.storage.unit_of_work import UnitOfWork

    settings: Settings
    compose_for: tuple[Mailbox, Mailbox | None] | None
    settings, compose_for = pickle.load(requests)
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
                if compose_for is not None:
                    sender, reply_to = compose_for
                    composed_ahead(deliveries, answer, sender, reply_to, now)
            except Exception as exc:  # the whole batch: the sending thread renders it instead
                answer = RuntimeError(f"{type(exc).__name__}: {exc}")
            pickle.dump(answer, answers, pickle.HIGHEST_PROTOCOL)
            answers.flush()
    finally:
        uow.engine.dispose()


def composed_ahead(
    deliveries: Sequence[Delivery],
    contents: dict[int, Rendered | str],
    sender: Mailbox,
    reply_to: Mailbox | None,
    now: dt.datetime,
) -> None:
    """Each rendered e-mail built too, for ``sender`` and ``reply_to``: its content becomes
    the e-mail alone (under ``composed``), all the sending thread needs to hand it to the
    relay, and half as much to send back. An e-mail that cannot be built keeps its content
    (the channel says why at sending)."""
    from lealta.channels.email import COMPOSED, compose_ahead

    for delivery in deliveries:
        content = contents.get(delivery.outbox_id)
        if delivery.channel == "email" and isinstance(content, dict):
            built = compose_ahead(replace(delivery, content=content), sender, reply_to, now)
            if built is not None:
                contents[delivery.outbox_id] = {COMPOSED: built}


def main() -> None:
    """``python -m lealta.channels.render_ahead``: serve on standard input and output (what
    anything prints goes to standard error, so it cannot break an answer)."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
