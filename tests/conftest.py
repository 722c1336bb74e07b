"""Skipped tests are never silent: a loud summary at the end says which and why, and with
``LEALTA_FAIL_ON_SKIP=1`` (what ``.ci/run`` sets) a run with any skip fails."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

_BAR = "!" * 78


def _cheap_password_hashing() -> None:
    """Hash console passwords with Argon2id at its lowest cost in the test process.

    The recommended parameters cost about 0.4 CPU s per hash and check, by design; the console
    tests create users and sign in hundreds of times, which made password hashing a large share
    of the suite's CPU. What they test is sign-in, sessions and roles, not Argon2's cost, so
    they use the same algorithm with time 1, 1 MiB and one lane. Servers the tests start as
    processes keep the recommended parameters (``lealta.users.passwords`` is unchanged).
    """
    from functools import lru_cache

    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from lealta.users import passwords

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    passwords._hasher = lru_cache(maxsize=1)(lambda: cheap)  # type: ignore[assignment]


_cheap_password_hashing()


def _quick_spark() -> None:
    """Start the tests' Spark for short jobs on small files: the JVM compiles with its quick
    compiler only (the optimising one spends more CPU warming up than these jobs run) and two
    shuffle partitions (every aggregation still shuffles; eight only made more tiny tasks).
    Measured on the Spark equality tests: about 2.5x less time. A developer's own settings win.
    """
    os.environ.setdefault("LEALTA_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    os.environ.setdefault("LEALTA_SPARK_PARTITIONS", "2")


_quick_spark()


def _skips(config: pytest.Config) -> list[Any]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return []
    return list(reporter.stats.get("skipped", []))


def _reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _strict() -> bool:
    return os.environ.get("LEALTA_FAIL_ON_SKIP", "") not in ("", "0")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller decides
        return
    if _strict() and exitstatus == 0 and _skips(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    skips = _skips(config)
    if not skips:
        return
    reasons = Counter(_reason(report) for report in skips)
    write = terminalreporter.write_line
    write("")
    write(_BAR, red=True, bold=True)
    noun = "TEST WAS" if len(skips) == 1 else "TESTS WERE"
    write(f"{len(skips)} {noun} SKIPPED: this run did not test everything", red=True, bold=True)
    for reason, count in reasons.most_common():
        write(f"  {count:5d}  {reason}", red=True)
    write("Install what is missing (`make test` does it when run as root) and run again.")
    if _strict():
        write("LEALTA_FAIL_ON_SKIP is set: the run fails because of these skips.", red=True)
    write(_BAR, red=True, bold=True)
