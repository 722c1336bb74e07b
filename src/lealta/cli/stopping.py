"""How ``lealta worker`` ends: when the server that started it is gone, and always within a
bound once asked to stop.

The server passes its own process id (``--parent-pid``) rather than the worker reading its
parent at start: a server killed while the worker was still importing left a worker that read
its new parent (init, pid 1) as "the parent", never saw it die and ran on for good.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)
WATCHDOG = "lealta-exit-watchdog"


def parent_gone(parent: int) -> bool:
    """Whether the process ``parent`` that started this one has ended (this one was handed to
    another parent, as the system does with the children of a process that dies)."""
    return os.getppid() != parent


def exit_if_still_running(seconds: float, why: str) -> threading.Thread:
    """Arm a watchdog: if this process still runs ``seconds`` from now, log ``why`` it was
    stopping and which threads held it, then end it at once (exit status 1).

    Stopping joins the loops with timeouts, but a thread that ends never (a library's
    non-daemon thread, a job stuck in C code) or an exit handler that waits would keep the
    interpreter from exiting; the watchdog is a daemon thread, so it runs until the very end.
    """

    def watch() -> None:
        time.sleep(seconds)
        _exit(f"worker still stopping {seconds:g} s after {why}", _others())

    watchdog = threading.Thread(target=watch, name=WATCHDOG, daemon=True)
    watchdog.start()
    return watchdog


def exit_if_threads_left(why: str) -> None:
    """Once the loops were stopped and joined (each with a timeout): when a thread still runs,
    end the process at once (exit status 1) with a line naming them, rather than let the
    interpreter wait for it at exit, or finalize beside it (a daemon thread inside a database
    driver can hang that)."""
    left = _others()
    if left:
        _exit(f"worker stopped after {why} but threads still run", left)


def _others() -> list[str]:
    """The names of the threads other than this one and the watchdog, sorted."""
    here = threading.current_thread()
    return sorted(t.name for t in threading.enumerate() if t is not here and t.name != WATCHDOG)


def _exit(what: str, threads: list[str]) -> None:
    log.error("%s (threads: %s); exiting without waiting", what, ", ".join(threads) or "none")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(1)
