"""Kill `lealta worker` (SIGKILL) again and again while it advances runs: afterwards every run
is finished, every message is in the outbox exactly once, and no step was applied twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from lealta.automations import service
from lealta.automations.sweeps import enroll_many
from lealta.automations.tables import Run, RunStep
from lealta.automations.triggers import Live
from lealta.bootstrap import build
from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.contacts.tables import Contact
from lealta.messages import service as messages

RUNS = 1500
# The wait counts from when the first step was due (at enrolment), not from when a worker got
# to it: it must outlast a worker's start-up on a loaded machine, or the first worker runs both
# steps of every run at once, before any kill can interrupt it.
FLOW = """
id: two-messages
name: Two messages
trigger: {type: manual}
steps:
  - {id: first, type: send, channel: email, template: first}
  - {id: pause, type: wait, duration: 8s}
  - {id: second, type: send, channel: email, template: second}
  - {id: mark, type: tag, add: [done]}
"""


def test_a_killed_worker_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lealta.db'}"
    services = build(Settings(_env_file=None, database_url=url))
    now = dt.datetime.now(dt.UTC)
    with services.uow.transaction() as session:
        session.execute(
            Contact.__table__.insert(),
            [
                {
                    "id": f"c{i:05d}",
                    "created_at": now,
                    "updated_at": now,
                    "attributes": {},
                    "score": 0.0,
                    "score_state": {},
                }
                for i in range(RUNS)
            ],
        )
        service.save(session, FLOW, now=now)
        for template in ("first", "second"):
            messages.save(session, template, "email", {"subject": "Hi", "text": template})
        workflow = service.set_status(session, "two-messages", "active", now=now)
        live = Live(workflow, service.definition(session, "two-messages"))
        assert enroll_many(
            session, live, [f"c{i:05d}" for i in range(RUNS)], entry_key="x", now=now
        )

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
    env.update(LEALTA_DATABASE_URL=url, LEALTA_CONFIG_FILE=str(tmp_path / "none.toml"))
    command = [sys.executable, "-m", "lealta", "worker", "--poll", "0.05", "--log-level", "error"]
    progress: list[int] = []
    for pause in (0.3, 0.1, 0.5):
        before = _sent(services)
        worker = subprocess.Popen(command, env=env, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while _sent(services) == before and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until this worker has committed some work
        time.sleep(pause)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        progress.append(_sent(services))
    worker = subprocess.Popen(command, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with services.uow.transaction() as session:
                left = session.scalar(
                    select(func.count()).select_from(Run).where(Run.status != "done")
                )
            if left == 0:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(15)
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


def _sent(services: object) -> int:
    uow = services.uow  # type: ignore[attr-defined]
    with uow.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
