"""Postfix's smtp-sink (the benchmark's server) takes a burst of messages from the pool."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import channel_for, delivery, free_port

SMTP_SINK = Path("/usr/sbin/smtp-sink")

pytestmark = pytest.mark.skipif(
    not SMTP_SINK.exists(), reason="smtp-sink is not installed (Debian package postfix)"
)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """smtp-sink on a free port, printing its counters to a file; yields (port, file)."""
    port = free_port()
    counters = tmp_path / "counters.txt"
    command = [str(SMTP_SINK), "-c", f"127.0.0.1:{port}", "100"]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # smtp-sink refuses to run as root
    with counters.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port)
        yield port, counters
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"smtp-sink did not start on port {port}")


def _messages_counted(counters: Path) -> int:
    found = re.findall(rb"mesg=(\d+)", counters.read_bytes())
    return int(found[-1]) if found else 0


def test_two_hundred_messages_from_two_threads_all_arrive(sink: tuple[int, Path]) -> None:
    port, counters = sink
    ids: set[str] = set()
    lock = threading.Lock()

    def work(part: int) -> None:
        for number in range(100):
            sent = channel.send(delivery(f"sink-{part}-{number}", subject=f"Nachricht {number} ✓"))
            with lock:
                ids.add(sent)

    with channel_for(port, pool_size=2) as channel:
        threads = [threading.Thread(target=work, args=(part,)) for part in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert channel.pool.opened <= 2
    deadline = time.monotonic() + 10
    while _messages_counted(counters) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(ids) == 200
    assert _messages_counted(counters) == 200
