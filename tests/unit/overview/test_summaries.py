"""One summary per key (a workflow's counts, say): each computed with its key, served from the
summary once slow, and those nobody reads dropped."""

from __future__ import annotations

from lealta.overview.summary import Freshness, Summaries


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_key_has_its_own_summary_computed_with_that_key() -> None:
    ticks = Ticks()
    calls: list[str] = []

    def compute(key: str) -> str:
        calls.append(key)
        ticks.now += 2.0  # slow: later reads come from the summary
        return f"{key}#{calls.count(key)}"

    freshness = Freshness(live_below=1.0, refresh_every=1_000.0, max_age=60.0)
    summaries: Summaries[str, str] = Summaries(compute, freshness, ticks=ticks)
    try:
        assert summaries.read("a") == "a#1"
        assert summaries.read("b") == "b#1"
        assert summaries.read("a") == "a#1"  # from a's summary, not recounted
        assert calls == ["a", "b"]
        ticks.now += 70  # too old: recounted for the reader
        assert summaries.read("b") == "b#2"
        assert len(summaries) == 2
    finally:
        summaries.close()


def test_quick_figures_are_counted_for_every_reader() -> None:
    counted: list[int] = []

    def compute(key: int) -> int:
        counted.append(key)
        return len(counted)

    summaries: Summaries[int, int] = Summaries(compute, Freshness(live_below=10.0))
    assert [summaries.read(1), summaries.read(1), summaries.read(2)] == [1, 2, 3]


def test_summaries_nobody_reads_are_dropped_when_another_is_made() -> None:
    ticks = Ticks()
    freshness = Freshness(live_below=1.0, idle_after=600.0)
    summaries: Summaries[str, str] = Summaries(lambda key: key, freshness, ticks=ticks)
    summaries.read("old")
    summaries.read("kept")
    ticks.now += 500
    summaries.read("kept")
    ticks.now += 200  # "old" unread for 700 s, "kept" for 200 s
    summaries.read("new")
    assert len(summaries) == 2
    assert set(summaries._each) == {"kept", "new"}


def test_a_slow_but_small_figure_is_still_counted_for_every_reader() -> None:
    ticks = Ticks()
    counted: list[int] = []

    def compute(key: str) -> int:
        counted.append(1)
        ticks.now += 5.0  # a busy machine: slow though small
        return len(counted) * (1_000 if key == "big" else 1)

    freshness = Freshness(live_below=1.0, refresh_every=1_000.0)
    summaries: Summaries[str, int] = Summaries(
        compute, freshness, ticks=ticks, large=lambda n: n >= 1_000
    )
    try:
        assert [summaries.read("small"), summaries.read("small")] == [1, 2]
        assert [summaries.read("big"), summaries.read("big")] == [3_000, 3_000]
    finally:
        summaries.close()


def test_forgetting_a_key_makes_the_next_read_count_afresh() -> None:
    counted: list[str] = []

    def compute(key: str) -> str:
        counted.append(key)
        return f"{key}-{len(counted)}"

    summaries = Summaries(compute, Freshness(live_below=0.0))
    try:
        first = summaries.read("a")
        assert summaries.read("a") == first  # slow (live_below=0): from the summary
        summaries.forget(lambda key: key == "a")
        assert summaries.read("a") != first
    finally:
        summaries.close()
