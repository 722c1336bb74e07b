"""Stopping the worker's loops: every loop is told first, and all of them are waited for until
one shared deadline, not each for the whole timeout in turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lealta.channels.sender import Sender
from lealta.channels.testing import RecordingChannel
from lealta.storage.unit_of_work import UnitOfWork
from lealta.tracking import worker
from lealta.tracking.worker import Processor
from tests.factories.services import services_for

TIMEOUT = 1.0


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Semaphore]]:
    """Every loop's work blocks until ``release`` is set; ``entered`` counts loops inside."""
    release = threading.Event()
    entered = threading.Semaphore(0)

    def blocked(*_args: Any, **_kwargs: Any) -> int:
        entered.release()
        release.wait(30)
        return 0

    monkeypatch.setattr(worker, "process_pending", blocked)
    monkeypatch.setattr("lealta.jobs.worker.run_next", blocked)
    monkeypatch.setattr(Sender, "pass_", blocked)
    yield release, entered
    release.set()


def test_stop_waits_for_every_loop_until_one_deadline(
    uow: UnitOfWork, database_url: str, stuck: tuple[threading.Event, threading.Semaphore]
) -> None:
    release, entered = stuck
    services = services_for(uow, database_url, send_threads=2)
    processor = Processor(services, poll=0.05, channels={"email": RecordingChannel()})
    processor.start()
    for _ in range(4):  # the processor, two sending threads and the jobs loop
        assert entered.acquire(timeout=10)

    began = time.monotonic()
    processor.stop(timeout=TIMEOUT)
    took = time.monotonic() - began

    # four loops each waited for the whole timeout would take four times as long
    assert TIMEOUT - 0.05 <= took < 1.8 * TIMEOUT
    release.set()
    processor.stop(timeout=10)
    assert processor._thread is not None
    assert not processor._thread.is_alive()
