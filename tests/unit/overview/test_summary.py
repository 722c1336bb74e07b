"""The overview is live while quick; slow, it comes from a summary at most a minute old."""

from __future__ import annotations

import datetime as dt
import threading
import time

from lealta.overview.service import Overview
from lealta.overview.summary import LARGE_STORE, Freshness, OverviewSummary

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Ticks:
    """A monotonic clock the test moves; each computation advances it by ``cost`` seconds."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _overview(number: int, contacts: int = LARGE_STORE) -> Overview:
    """The ``number``-th computation's figures (kept in ``inbox_waiting``) of a store of
    ``contacts`` (by default large enough to be served from the summary when slow)."""
    return Overview(
        computed_at=START + dt.timedelta(seconds=number),
        contacts=contacts,
        stages=[],
        days=[],
        segments=[],
        grid={},
        rfm_as_of=None,
        channels=[],
        workflows=[],
        inbox_waiting=number,
        inbox_failed=0,
    )


class Counting:
    def __init__(self, ticks: Ticks, cost: float) -> None:
        self.ticks, self.cost, self.calls = ticks, cost, 0

    def __call__(self) -> Overview:
        self.calls += 1
        self.ticks.now += self.cost
        return _overview(self.calls)


def test_a_quick_overview_is_computed_for_every_reader() -> None:
    ticks = Ticks()
    compute = Counting(ticks, cost=0.05)
    summary = OverviewSummary(compute, Freshness(live_below=1.0), ticks=ticks)
    assert summary.read().inbox_waiting == 1
    assert summary.read().inbox_waiting == 2
    assert not summary.slow


def test_a_slow_overview_is_served_from_the_summary_until_it_is_a_minute_old() -> None:
    ticks = Ticks()
    compute = Counting(ticks, cost=3.0)
    freshness = Freshness(live_below=1.0, refresh_every=1_000.0, max_age=60.0)
    summary = OverviewSummary(compute, freshness, ticks=ticks)
    try:
        assert summary.read().inbox_waiting == 1
        assert summary.slow
        ticks.now += 50  # 53 s after it was started
        assert summary.read().inbox_waiting == 1
        assert compute.calls == 1
        ticks.now += 10  # 63 s: too old to show, the reader waits for a new one
        assert summary.read().inbox_waiting == 2
    finally:
        summary.close()


def test_the_background_refresher_keeps_a_read_summary_fresh() -> None:
    computed = threading.Event()
    calls: list[int] = []

    def compute() -> Overview:
        calls.append(1)
        if len(calls) > 1:
            computed.set()
        return _overview(len(calls))

    # every computation counts as slow (live_below=0), refreshed every 50 ms
    summary = OverviewSummary(compute, Freshness(live_below=0.0, refresh_every=0.05))
    try:
        summary.read()
        summary.read()  # served from the summary: starts the refresher
        assert computed.wait(5), "the summary was never refreshed in the background"
        deadline = time.monotonic() + 5  # the refresher stores what it computed just after
        while summary.read().inbox_waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert summary.read().inbox_waiting >= 2
    finally:
        summary.close()


def test_nobody_reading_stops_the_refresher() -> None:
    ticks = Ticks()
    compute = Counting(ticks, cost=2.0)
    freshness = Freshness(live_below=1.0, refresh_every=0.0, idle_after=10.0)
    summary = OverviewSummary(compute, freshness, ticks=ticks)
    summary.read()
    ticks.now += 30  # nobody read it for longer than idle_after
    summary.read()
    ticks.now += 30
    refresher = summary._refresher
    assert refresher is not None
    refresher.join(timeout=5)
    assert not refresher.is_alive(), "the refresher kept computing with nobody reading"


def test_a_small_store_is_counted_live_even_when_the_machine_is_slow() -> None:
    ticks = Ticks()
    calls: list[int] = []

    def compute() -> Overview:
        calls.append(1)
        ticks.now += 3.0  # a busy machine: slow even for a few contacts
        return _overview(len(calls), contacts=LARGE_STORE - 1)

    summary = OverviewSummary(compute, Freshness(live_below=0.25), ticks=ticks)
    assert summary.read().inbox_waiting == 1
    assert not summary.slow
    assert summary.read().inbox_waiting == 2  # a change shows at once


def test_a_count_slower_than_a_minute_is_still_served_from_its_summary() -> None:
    ticks = Ticks()
    compute = Counting(ticks, cost=90.0)  # ten million rows on a small machine
    freshness = Freshness(live_below=0.25, refresh_every=1_000.0, max_age=60.0)
    summary = OverviewSummary(compute, freshness, ticks=ticks)
    try:
        assert summary.read().inbox_waiting == 1
        assert summary.oldest == 180.0
        ticks.now += 10  # 100 s after the count started: older than a minute, yet the freshest
        assert summary.read().inbox_waiting == 1
        assert compute.calls == 1
        ticks.now += 100  # 200 s: past twice the count's time, the reader waits for a new one
        assert summary.read().inbox_waiting == 2
    finally:
        summary.close()
