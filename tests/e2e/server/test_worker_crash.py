"""Kill `lealta worker` (SIGKILL) again and again while it advances runs: afterwards every run
is finished, every message is in the outbox exactly once, and no step was applied twice.

Every wait is on a condition (a worker is up, a step is committed, nothing is left), with
deadlines far beyond a loaded machine's delays, never on a fixed time racing it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select

from lealta.automations import service
from lealta.automations.sweeps import enroll_many
from lealta.automations.tables import Run, RunStep
from lealta.automations.triggers import Live
from lealta.bootstrap import Services, build
from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.contacts.tables import Contact
from lealta.messages import service as messages
from tests.e2e.server.rows import contact_rows

RUNS = 500  # fewer than a runner's batch: each step of all runs is one transaction
DEADLINE = 300.0  # seconds: only reached when something is wrong
# The wait counts from enrolment, which happens once the first worker is up: it must outlast
# that worker's first batch plus the test seeing it, or the second step comes before any kill.
FLOW = """
id: two-messages
name: Two messages
trigger: {type: manual}
steps:
  - {id: first, type: send, channel: email, template: first}
  - {id: pause, type: wait, duration: 10s}
  - {id: second, type: send, channel: email, template: second}
  - {id: mark, type: tag, add: [done]}
"""


def test_a_killed_worker_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lealta.db'}"
    services = build(Settings(_env_file=None, database_url=url))
    ids = [f"c{i:05d}" for i in range(RUNS)]
    _prepare(services, ids)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
    env.update(LEALTA_DATABASE_URL=url, LEALTA_CONFIG_FILE=str(tmp_path / "none.toml"))
    command = [sys.executable, "-m", "lealta", "worker", "--poll", "0.05", "--log-level", "error"]

    def started(number: int) -> subprocess.Popen[bytes]:
        log = tmp_path / f"worker-{number}.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=out)
        _until(lambda: "worker running" in log.read_text(), f"worker {number} to start", worker)
        return worker

    progress: list[int] = []
    for number, pause in enumerate((0.3, 0.1, 0.5)):
        before = _sent(services)
        worker = started(number)
        if number == 0:
            _enroll(services, ids)  # now that a worker is up: its first batch takes one step

        def committed(before: int = before) -> bool:  # some work of this worker (or none left)
            return _sent(services) != before or not _left(services)

        _until(committed, "a commit", worker)
        time.sleep(pause)
        worker.send_signal(signal.SIGKILL)
        worker.wait(DEADLINE)
        progress.append(_sent(services))
    worker = started(3)
    try:
        _until(lambda: not _left(services), "every run to finish", worker)
    finally:
        worker.terminate()
        try:
            worker.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            worker.kill()
    with services.uow.transaction() as session:
        assert session.scalar(select(func.count()).where(Run.status == "done")) == RUNS
        per_template = dict(
            session.execute(
                select(OutboxMessage.template, func.count()).group_by(OutboxMessage.template)
            ).all()
        )
        repeated_steps = session.execute(
            select(RunStep.run_id, RunStep.step_id, RunStep.outcome)
            .group_by(RunStep.run_id, RunStep.step_id, RunStep.outcome)
            .having(func.count() > 1)
        ).all()
    assert per_template == {"first": RUNS, "second": RUNS}
    # The kills really interrupted the work (not before it started, not after it ended).
    assert any(0 < done < 2 * RUNS for done in progress), progress
    assert repeated_steps == []


def _prepare(services: Services, ids: list[str]) -> None:
    """The contacts, the workflow (active) and its two templates; nobody enrolled yet."""
    now = dt.datetime.now(dt.UTC)
    with services.uow.transaction() as session:
        session.execute(insert(Contact), contact_rows(ids, now))
        service.save(session, FLOW, now=now)
        for template in ("first", "second"):
            messages.save(session, template, "email", {"subject": "Hi", "text": template})
        service.set_status(session, "two-messages", "active", now=now)


def _enroll(services: Services, ids: list[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    with services.uow.transaction() as session:
        workflow = service.get(session, "two-messages")
        live = Live(workflow, service.definition(session, "two-messages"))
        assert enroll_many(session, live, ids, entry_key="x", now=now)


def _until(done: Callable[[], bool], what: str, worker: subprocess.Popen[bytes]) -> None:
    """Wait until ``done()``; fail if the worker dies first or after ``DEADLINE`` seconds."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        assert worker.poll() is None, f"the worker exited ({worker.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} in {DEADLINE:.0f} s"
        time.sleep(0.05)


def _sent(services: Services) -> int:
    with services.uow.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def _left(services: Services) -> int:
    with services.uow.transaction() as session:
        return int(
            session.scalar(select(func.count()).select_from(Run).where(Run.status != "done")) or 0
        )
