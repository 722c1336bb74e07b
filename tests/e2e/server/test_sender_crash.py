"""Kill `lealta worker` (SIGKILL) again and again while it sends e-mail to a real SMTP server:
afterwards no message arrived twice, and every message either arrived once or is recorded as
interrupted (at most one chunk per kill: the messages marked sending at that moment)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, insert, select, update

from lealta.bootstrap import build
from lealta.channels.attempts import SEND_CHUNK
from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.contacts.tables import Consent, Contact, Identifier
from lealta.messages.service import save
from tests.e2e.server.rows import contact_rows
from tests.integration.channels_email.conftest import Mailroom, smtp_server

MESSAGES = 400
KILLS = 3
DEADLINE = 300.0  # seconds: every wait is on a condition; only reached when something is wrong


class SlowMailroom(Mailroom):
    """Takes a few milliseconds per message, like a real relay, so kills land mid-batch."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.004)
        return await super().handle_DATA(server, session, envelope)


def _prepare(url: str) -> None:
    services = build(Settings(_env_file=None, database_url=url))
    now = dt.datetime.now(dt.UTC)
    ids = [f"c{i:05d}" for i in range(MESSAGES)]
    with services.uow.transaction() as session:
        names = [{"first_name": f"P{i}"} for i in range(MESSAGES)]
        session.execute(insert(Contact), contact_rows(ids, now, names))
        session.execute(
            insert(Identifier),
            [
                {
                    "contact_id": cid,
                    "kind": "email",
                    "value": f"p{i}@example.com",
                    "created_at": now,
                }
                for i, cid in enumerate(ids)
            ],
        )
        session.execute(
            insert(Consent),
            [
                {
                    "contact_id": cid,
                    "channel": "email",
                    "status": "granted",
                    "source": "test",
                    "proof": {},
                    "recorded_at": now,
                }
                for cid in ids
            ],
        )
        save(
            session,
            "news",
            "email",
            {"subject": "News for {{ contact.first_name }}", "html": "<p>Hello!</p>"},
            now=now,
        )
        session.execute(
            insert(OutboxMessage),
            [
                {
                    "idempotency_key": f"news:{cid}",
                    "contact_id": cid,
                    "channel": "email",
                    "template": "news",
                    "payload": {},
                    "priority": 0,
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for cid in ids
            ],
        )
    services.uow.engine.dispose()


def test_a_killed_sender_never_delivers_a_message_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lealta.db'}"
    _prepare(url)
    services = build(Settings(_env_file=None, database_url=url))
    room = SlowMailroom()
    with smtp_server(room) as port:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        env.update(
            LEALTA_DATABASE_URL=url,
            LEALTA_CONFIG_FILE=str(tmp_path / "none.toml"),
            LEALTA_SMTP_HOST="127.0.0.1",
            LEALTA_SMTP_PORT=str(port),
            LEALTA_QUIET_HOURS="",
            LEALTA_FREQUENCY_CAPS="[]",
        )
        command = [
            sys.executable,
            "-m",
            "lealta",
            "worker",
            "--poll",
            "0.05",
            "--log-level",
            "error",
        ]
        progress: list[int] = []
        for pause in (0.2, 0.05, 0.4):
            before = room.count()
            worker = subprocess.Popen(command, env=env, cwd=tmp_path)
            deadline = time.monotonic() + DEADLINE
            # wait until this worker is sending (or nothing is left to send)
            while room.count() == before and _unsettled(services):
                assert worker.poll() is None, "the worker exited before sending"
                assert time.monotonic() < deadline, f"no message sent in {DEADLINE:.0f} s"
                time.sleep(0.01)
            time.sleep(pause)
            worker.send_signal(signal.SIGKILL)
            worker.wait(DEADLINE)
            progress.append(room.count())
            _lease_runs_out(services)
        worker = subprocess.Popen(command, env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline and _unsettled(services):
                time.sleep(0.2)
        finally:
            worker.terminate()
            try:
                worker.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                worker.kill()

    arrived = Counter(r.message["X-Lealta-Message"] for r in room.received)
    with services.uow.transaction() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.error))
        by_status: dict[str, set[str]] = {}
        for outbox_id, status, error in rows:
            key = "interrupted" if status == "failed" and "interrupted" in str(error) else status
            by_status.setdefault(key, set()).add(str(outbox_id))
    assert [k for k, n in arrived.items() if n > 1] == []  # nothing arrived twice
    assert set(by_status) <= {"sent", "interrupted"}, by_status.keys()
    sent, interrupted = by_status.get("sent", set()), by_status.get("interrupted", set())
    assert len(sent) + len(interrupted) == MESSAGES
    assert len(interrupted) <= KILLS * SEND_CHUNK  # only the chunk in hand at each kill
    assert sent <= set(arrived)  # every message recorded as sent arrived (once)
    assert set(arrived) <= sent | interrupted
    # The kills really interrupted the sending (not before it started, not after it ended).
    assert any(0 < done < MESSAGES for done in progress), progress


def _lease_runs_out(services: object) -> None:
    """Ten minutes pass for the rows the killed worker held (its lease runs out)."""
    uow = services.uow  # type: ignore[attr-defined]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with uow.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status.in_(("claimed", "sending")))
            .values(not_before=past)
        )


def _unsettled(services: object) -> int:
    uow = services.uow  # type: ignore[attr-defined]
    with uow.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "claimed", "sending")))
            )
            or 0
        )
