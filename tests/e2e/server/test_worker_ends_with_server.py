"""The worker ``lealta serve`` starts never outlives it: killed (SIGKILL) or stopped (SIGTERM)
while the worker is still starting, the server leaves no worker running.

A worker that read "its parent" only once started saw, after such an early death, the process
that adopted it (init) as its parent, never saw it end, and ran on for good (CI found one 35
minutes after the tests). Every wait has a deadline far beyond a loaded machine's delays.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.server.conftest import LEALTA, free_port, server_env

DEADLINE = 180.0  # seconds: only reached when something is wrong


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended, its reaping aside


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_a_server_ended_while_its_worker_starts_leaves_no_worker(
    tmp_path: Path, stop: signal.Signals
) -> None:
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [*LEALTA, "serve", "--port", str(free_port()), "--log-level", "info"],
            env=server_env(tmp_path),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + DEADLINE
        while not workers and server.poll() is None and time.monotonic() < deadline:
            workers = _children(server.pid)
            time.sleep(0.01)
        assert workers, (tmp_path / "server.log").read_text()
        server.send_signal(stop)  # the worker is still importing Lealta now
        server.wait(DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while _running(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _running(workers[0]), (tmp_path / "server.log").read_text()
    finally:
        for pid in [*workers, server.pid]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        server.wait(DEADLINE)
