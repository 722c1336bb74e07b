"""Progress shown while the engine works: a bar when the engine reports progress."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

POLL_SECONDS = 0.1


@contextlib.contextmanager
def working(console: Console, engine: Any, description: str) -> Iterator[None]:
    """Show ``description`` with the running query's progress until the block ends.

    DuckDB reports how far its current query is; the bar follows it (each step of a run is its
    own query, so the bar may restart). Other engines, or output that is not a terminal, get
    a spinner.
    """
    if engine is None or engine.name != "duckdb" or not console.is_terminal:
        with console.status(description):
            yield
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(description, total=100)
    stop = threading.Event()

    def follow() -> None:
        while not stop.wait(POLL_SECONDS):
            done = engine.query_progress()
            if done is not None:
                bar.update(task, completed=done)

    engine.track_progress(True)
    with bar:
        poller = threading.Thread(target=follow, name="lealta-progress", daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()
            engine.track_progress(False)
