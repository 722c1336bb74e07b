"""Figures that take seconds at a million contacts, as readers get them: computed live while
that is quick, else a summary refreshed in the background and never older than a minute.

:class:`Summary` keeps one such figure (the overview as the console and ``GET /v1/overview``
read it is :class:`OverviewSummary`); :class:`Summaries` keeps one per key (a workflow's
diagram counts, say), each made when first read.

Counting a small shop takes milliseconds, so its figures are always computed on the spot. At a
million contacts the same figures take seconds: once computing takes longer than
``live_below`` seconds, readers get the last summary (it says when it was computed), a
background thread computes the next one every ``refresh_every`` seconds while someone has read
it in the last ``idle_after`` seconds, and a summary older than ``max_age`` (or than twice the
time the last count took, when counting takes longer than that) is never served: the reader
waits for a fresh one instead.

A page cannot wait for a count of a minute or two (the campaign reports' first count after a
restart, at ten million message events). :meth:`Summary.within` counts in the background
instead and waits at most the seconds it is given: it answers ``None`` ("counting…") when the
count is not done by then, and the reader asks again later; the count goes on and its figures
are there for the next reader.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from lealta.overview.service import Overview, compute_overview

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
T = TypeVar("T")
_COUNTING = threading.Lock()  # guards starting background counts (held for microseconds)


def overview_now(services: Services) -> Overview:
    """The overview computed now (state store and tracking inbox)."""
    now = services.clock.now()
    with services.uow.transaction() as session, services.inbox.transaction() as inbox:
        return compute_overview(session, inbox, now=now)


@dataclass(frozen=True)
class Freshness:
    """How the summary is kept (seconds)."""

    live_below: float = 0.25  # the console answers in under 300 ms
    refresh_every: float = 30.0
    max_age: float = 60.0
    idle_after: float = 600.0


class Summary(Generic[T]):
    """One figure: :meth:`read` answers from it, recomputing when needed."""

    def __init__(
        self,
        compute: Callable[[], T],
        freshness: Freshness | None = None,
        *,
        ticks: Callable[[], float] = time.monotonic,
        name: str = "summary",
        large: Callable[[T], bool] | None = None,
    ) -> None:
        self._compute = compute
        self.freshness = freshness or Freshness()
        self.name = name
        self._large = large
        self._ticks = ticks
        self._lock = threading.Lock()  # one computation at a time
        self._latest: T | None = None
        self._latest_at = 0.0  # ticks when the latest summary was started
        self._done_at = 0.0  # ticks when it was finished
        self._took = 0.0  # seconds the latest computation took
        self._read_at = ticks()  # a new summary counts as just read
        self._refresher: threading.Thread | None = None
        self._stop = threading.Event()
        self._counting: tuple[threading.Thread, threading.Event] | None = None
        self._failure: BaseException | None = None  # of the last count in the background

    @property
    def slow(self) -> bool:
        """True once computing the figure took longer than ``live_below`` (and, with ``large``,
        the figure says it counted a lot: a busy machine alone never makes a small count stale)."""
        latest = self._latest
        if latest is None or self._took < self.freshness.live_below:
            return False
        return self._large is None or self._large(latest)

    @property
    def idle(self) -> bool:
        """True when nobody has read it for ``idle_after`` seconds."""
        return self._ticks() - self._read_at > self.freshness.idle_after

    def read(self) -> T:
        """The figure to show now: live when quick, else the summary (at most ``max_age``
        seconds old)."""
        now = self._ticks()
        self._read_at = now
        latest_at = self._latest_at  # before the figures: they are stored first (see _refresh)
        latest = self._latest
        if latest is not None and self.slow:
            age = now - latest_at
            if age < self.oldest:
                self._ensure_refresher()
                return latest
        return self._refresh(asked=now)

    def within(self, wait: float) -> T | None:
        """The figure to show now, as :meth:`read` gives it, but never after waiting longer
        than ``wait`` seconds: when it must be counted, the count runs in the background and
        ``None`` means it is still counting (ask again later; the next reader gets it). An
        error of that count is raised to the reader who asks after it failed."""
        now = self._ticks()
        self._read_at = now
        latest_at = self._latest_at  # before the figures: they are stored first (see _refresh)
        latest = self._latest
        if latest is not None and self.slow and now - latest_at < self.oldest:
            self._ensure_refresher()
            return latest
        done = self._count_behind(asked=now)
        if not done.wait(wait):
            return None
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        return self._latest

    def _count_behind(self, *, asked: float) -> threading.Event:
        """The event set when a count in the background is over (one started now, or the one
        already running)."""
        with _COUNTING:
            running = self._counting
            if running is not None and running[0].is_alive():
                return running[1]
            done = threading.Event()
            self._failure = None  # an older count's error is not this one's

            def count() -> None:
                try:
                    self._refresh(asked=asked)
                except Exception as failure:  # raised to the next reader of within()
                    log.exception("counting the %s failed", self.name)
                    self._failure = failure
                finally:
                    done.set()

            thread = threading.Thread(target=count, name=f"lealta-{self.name}-count", daemon=True)
            self._counting = (thread, done)
            thread.start()
            return done

    @property
    def oldest(self) -> float:
        """The age past which the summary is not shown: ``max_age``, or twice the time the
        last count took when that is longer (a count of two minutes cannot give figures
        younger than two minutes: without this, every reader would count again)."""
        return max(self.freshness.max_age, 2 * self._took)

    def _refresh(self, *, asked: float) -> T:
        with self._lock:
            if self._latest is not None and self.slow and self._done_at >= asked:
                return self._latest  # computed by another reader while this one waited
            started = self._ticks()
            figures = self._compute()
            self._done_at = self._ticks()
            self._took = self._done_at - started
            # the figures first, then their time: a reader that reads the time first never
            # pairs a new time with old figures (it would show them as fresh)
            self._latest = figures
            self._latest_at = started
            if self.slow:
                log.info("%s took %.1f s: served from a background summary", self.name, self._took)
            return figures

    def _ensure_refresher(self) -> None:
        if self._refresher is not None and self._refresher.is_alive():
            return
        self._stop.clear()
        self._refresher = threading.Thread(
            target=self._refresh_loop, name=f"lealta-{self.name}-summary", daemon=True
        )
        self._refresher.start()

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            due = self._latest_at + self.freshness.refresh_every - self._ticks()
            if due > 0 and self._stop.wait(due):
                return
            if self.idle or not self.slow:
                return  # nobody is looking, or it became quick: readers compute it
            try:
                self._refresh(asked=self._ticks())
            except Exception:  # the next reader will see and raise the error
                log.exception("refreshing the %s failed", self.name)
                if self._stop.wait(self.freshness.refresh_every):
                    return

    def close(self) -> None:
        """Stop the background refresher (the app shutting down)."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(timeout=5)


# Below this many contacts the overview is always counted live: on a busy machine a small
# store may take longer than ``live_below`` once, and its figures must not lag a change.
LARGE_STORE = 20_000


class OverviewSummary(Summary[Overview]):
    """One process's overview (see the module docstring)."""

    def __init__(
        self,
        compute: Callable[[], Overview],
        freshness: Freshness | None = None,
        *,
        ticks: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            compute,
            freshness,
            ticks=ticks,
            name="overview",
            large=lambda overview: overview.contacts >= LARGE_STORE,
        )


K = TypeVar("K", bound=Hashable)


class Summaries(Generic[K, T]):
    """One :class:`Summary` per key, made when first read; those nobody has read for
    ``idle_after`` seconds are dropped when another key is first read (so a process that
    looked at many workflows once does not keep them all)."""

    def __init__(
        self,
        compute: Callable[[K], T],
        freshness: Freshness | None = None,
        *,
        ticks: Callable[[], float] = time.monotonic,
        name: str = "summary",
        large: Callable[[T], bool] | None = None,
    ) -> None:
        self._compute = compute
        self.freshness = freshness or Freshness()
        self._ticks = ticks
        self.name = name
        self._large = large
        self._lock = threading.Lock()
        self._each: dict[K, Summary[T]] = {}

    def read(self, key: K) -> T:
        """The figure for ``key`` (see :meth:`Summary.read`)."""
        return self._summary(key).read()

    def within(self, key: K, wait: float) -> T | None:
        """The figure for ``key`` after at most ``wait`` seconds, ``None`` while it is being
        counted (see :meth:`Summary.within`)."""
        return self._summary(key).within(wait)

    def _summary(self, key: K) -> Summary[T]:
        with self._lock:
            found = self._each.get(key)
            if found is None:
                for old, summary in list(self._each.items()):
                    if summary.idle:
                        summary.close()
                        del self._each[old]
                found = Summary(
                    lambda: self._compute(key),
                    self.freshness,
                    ticks=self._ticks,
                    name=f"{self.name} {key}",
                    large=self._large,
                )
                self._each[key] = found
            return found

    def __len__(self) -> int:
        return len(self._each)

    def forget(self, matches: Callable[[K], bool]) -> None:
        """Drop the summaries whose key ``matches``: after a change the reader's own action
        made (enabling a workflow, ending its runs), the next read counts afresh."""
        with self._lock:
            for key in [key for key in self._each if matches(key)]:
                self._each.pop(key).close()

    def close(self) -> None:
        """Stop every background refresher."""
        with self._lock:
            for summary in self._each.values():
                summary.close()
            self._each.clear()


class PerStore(Generic[K, T]):
    """One :class:`Summaries` per store (``Services``) of this process, made when first read
    and dropped with the store; ``compute(services, key)`` counts, ``freshness()`` and
    ``large`` are read when a store's summaries are made (so tests and benchmarks may change
    them). The summaries hold the store weakly: they never keep it alive."""

    def __init__(
        self,
        compute: Callable[[Services, K], T],
        freshness: Callable[[], Freshness],
        *,
        name: str,
        large: Callable[[T], bool] | None = None,
    ) -> None:
        self._compute = compute
        self._freshness = freshness
        self._name = name
        self._large = large
        self._lock = threading.Lock()
        self._each: dict[int, Summaries[K, T]] = {}

    def of(self, services: Services) -> Summaries[K, T]:
        """The summaries of ``services``' store."""
        key = id(services)
        with self._lock:
            found = self._each.get(key)
            if found is None:
                owner = weakref.ref(services)
                found = Summaries(
                    lambda what: self._compute(_alive(owner), what),
                    self._freshness(),
                    name=self._name,
                    large=self._large,
                )
                self._each[key] = found
                weakref.finalize(services, self._drop, key)
            return found

    def forget(self, services: Services) -> None:
        """Drop ``services``' summaries: the next read counts afresh."""
        self._drop(id(services))

    def _drop(self, key: int) -> None:
        with self._lock:
            gone = self._each.pop(key, None)
        if gone is not None:
            gone.close()


def _alive(owner: weakref.ref[Services]) -> Services:
    services = owner()
    if services is None:
        raise RuntimeError("the store these figures were kept for is closed")
    return services
