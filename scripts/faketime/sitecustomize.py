"""Loaded by every Python process of ``make test-future`` (this folder is put on PYTHONPATH).

The pass runs under Debian's libfaketime with ``FAKETIME_DONT_FAKE_MONOTONIC=1``: only the wall
clock moves, so timed waits on locks and queues (which glibc makes against the real monotonic
clock, out of libfaketime's reach) keep working. In that mode libfaketime 0.9.10 breaks
``clock_nanosleep`` with an absolute deadline, which is how Python's ``time.sleep`` waits:
every sleep fails with EINVAL. Here ``time.sleep`` waits on an event instead (a relative,
monotonic wait). Nothing else changes, and nothing happens outside a faketime run.
"""

from __future__ import annotations

import os
import threading
import time

if os.environ.get("FAKETIME") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        threading.Event().wait(seconds)

    time.sleep = _sleep
