from __future__ import annotations

import io
import time

from rich.console import Console

from lealta.cli.progress import working


class FakeEngine:
    """Reports a query 40% done, and records whether progress tracking was asked for."""

    name = "duckdb"

    def __init__(self) -> None:
        self.tracking: list[bool] = []

    def track_progress(self, on: bool) -> None:
        self.tracking.append(on)

    def query_progress(self) -> float | None:
        return 40.0


def test_the_bar_follows_the_engines_progress_and_tracking_is_switched_off_after() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    engine = FakeEngine()
    with working(console, engine, "Scoring"):
        time.sleep(0.35)
    assert "40%" in out.getvalue()
    assert engine.tracking == [True, False]


def test_a_plain_output_gets_no_bar() -> None:
    out = io.StringIO()
    engine = FakeEngine()
    with working(Console(file=out, force_terminal=False), engine, "Scoring"):
        pass
    assert "%" not in out.getvalue()
    assert engine.tracking == []
