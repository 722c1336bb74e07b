"""A worker asked to stop ends within its bound even when a thread never ends."""

from __future__ import annotations

import subprocess
import sys

# A thread that never ends keeps the interpreter from exiting (or, a daemon one, may hang its
# finalization), as a job stuck in a library's C code would.
SCRIPT = """
import logging, sys, threading
from lealta.cli.stopping import exit_if_still_running, exit_if_threads_left
logging.basicConfig(format="%(levelname)s %(message)s")
check, threads = sys.argv[1:]
if threads == "stuck":
    threading.Thread(target=threading.Event().wait, name="stuck-job", daemon=False).start()
if threads == "stuck-daemon":
    threading.Thread(target=threading.Event().wait, name="stuck-job", daemon=True).start()
if check == "watchdog":
    exit_if_still_running(0.5, "SIGTERM")
else:
    exit_if_threads_left("SIGTERM")
"""


def _run(check: str, threads: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, check, threads], capture_output=True, text=True, timeout=120
    )


def test_a_process_held_by_a_thread_that_never_ends_exits_and_says_why() -> None:
    done = _run("watchdog", "stuck")
    assert done.returncode == 1
    assert (
        "ERROR worker still stopping 0.5 s after SIGTERM (threads: MainThread, stuck-job); "
        "exiting without waiting" in done.stderr
    )


def test_a_thread_left_after_stopping_ends_the_process_at_once_and_says_which() -> None:
    done = _run("threads", "stuck-daemon")
    assert done.returncode == 1
    assert (
        "ERROR worker stopped after SIGTERM but threads still run (threads: stuck-job); "
        "exiting without waiting" in done.stderr
    )


def test_a_process_that_ends_in_time_ends_as_it_would_have() -> None:
    for check in ("watchdog", "threads"):
        done = _run(check, "none")
        assert done.returncode == 0, done.stderr
        assert "exiting without waiting" not in done.stderr
