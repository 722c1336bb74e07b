"""A page never waits for a long count: ``within`` counts in the background, answers ``None``
("counting…") after the seconds it is given, and the figures are there for the next reader."""

from __future__ import annotations

import threading

import pytest

from lealta.overview.summary import Freshness, Summaries, Summary


class Gated:
    """A count that lasts until the test opens the gate; how often it was started."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        assert self.gate.wait(10), "the test never opened the gate"
        return self.calls


def test_a_long_count_answers_counting_then_its_figures() -> None:
    count = Gated()
    summary: Summary[int] = Summary(count, Freshness(live_below=0.0), large=lambda _: True)
    assert summary.within(0.05) is None
    assert summary.within(0.05) is None  # the same count goes on: not a second one
    assert count.calls == 1
    count.gate.set()
    assert summary.within(5) == 1
    # slow and fresh: served at once from the summary, no new count
    assert summary.within(0.0) == 1
    assert count.calls == 1
    summary.close()


def test_a_quick_count_is_answered_within_the_wait() -> None:
    count = Gated()
    count.gate.set()
    summary: Summary[int] = Summary(count, Freshness(live_below=10.0))
    assert summary.within(5) == 1
    assert summary.within(5) == 2  # quick: counted for every reader, as read() does


def test_a_summary_too_old_is_recounted_in_the_background() -> None:
    count = Gated()
    count.gate.set()
    ticks = [100.0]
    summary: Summary[int] = Summary(
        count,
        Freshness(live_below=0.0, max_age=60.0, refresh_every=600.0),
        ticks=lambda: ticks[0],
        large=lambda _: True,
    )
    assert summary.within(5) == 1
    count.gate.clear()
    ticks[0] += 61.0  # older than a minute: not shown, counted again
    assert summary.within(0.05) is None
    count.gate.set()
    assert summary.within(5) == 2
    summary.close()


def test_the_error_of_a_background_count_reaches_the_reader() -> None:
    def broken() -> int:
        raise RuntimeError("the database went away")

    summary: Summary[int] = Summary(broken, Freshness(live_below=0.0))
    with pytest.raises(RuntimeError, match="went away"):
        summary.within(5)


def test_summaries_count_each_key_in_the_background() -> None:
    gates = {"a": threading.Event(), "b": threading.Event()}

    def count(key: str) -> str:
        assert gates[key].wait(10)
        return key.upper()

    kept: Summaries[str, str] = Summaries(count, Freshness(live_below=0.0))
    assert kept.within("a", 0.05) is None
    gates["b"].set()
    assert kept.within("b", 5) == "B"
    gates["a"].set()
    assert kept.within("a", 5) == "A"
    kept.close()
