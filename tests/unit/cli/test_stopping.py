"""A worker asked to stop ends within its bound even when a thread never ends."""

from __future__ import annotations

import subprocess
import sys

# A thread that never ends keeps the interpreter from exiting, as a job stuck in C code would.
SCRIPT = """
import logging, sys, threading
from lealta.cli.stopping import exit_if_still_running
logging.basicConfig(format="%(levelname)s %(message)s")
if sys.argv[1] == "stuck":
    threading.Thread(target=threading.Event().wait, name="stuck-job").start()
exit_if_still_running(0.5, "SIGTERM")
"""


def _run(case: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, case], capture_output=True, text=True, timeout=120
    )


def test_a_process_held_by_a_thread_that_never_ends_exits_and_says_why() -> None:
    done = _run("stuck")
    assert done.returncode == 1
    assert (
        "ERROR worker still stopping 0.5 s after SIGTERM (threads: MainThread, stuck-job); "
        "exiting without waiting" in done.stderr
    )


def test_a_process_that_ends_in_time_ends_as_it_would_have() -> None:
    done = _run("free")
    assert done.returncode == 0, done.stderr
    assert "still stopping" not in done.stderr
