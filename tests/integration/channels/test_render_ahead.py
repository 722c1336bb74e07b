"""A large mailing is rendered a batch ahead in a process of its own: what people receive is
the same, every message goes out once, a worker that stops leaves nothing claimed, and a
rendering process that fails costs no message."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import DispatchReport
from lealta.channels.email import compose, mailbox
from lealta.channels.render_ahead import RenderProcesses, shareable
from lealta.channels.rendering import renderer
from lealta.channels.sender import Sender
from lealta.channels.tables import OutboxMessage
from lealta.channels.testing import RecordingChannel
from lealta.clock import FrozenClock
from lealta.messages import catalog
from lealta.messages.service import save
from tests.factories.services import settings_for

from .conftest import Outbox

TEMPLATE = "cart-reminder-1"
CART = {
    "products": [
        {"name": "Sencha", "price": 12.5, "quantity": 2, "url": "https://tea.example/s"},
        {"name": "Teapot", "price": 40, "url": "https://tea.example/p?a=1&b=2"},
    ],
    "currency": "EUR",
    "url": "https://tea.example/cart",
}


def _mailing(box: Outbox, count: int) -> list[str]:
    """``count`` people, each with a cart reminder waiting; their contact ids."""
    with box.services.uow.transaction() as session:
        [shipped] = [d for d in catalog.shipped() if d["id"] == TEMPLATE]
        save(session, TEMPLATE, shipped["channel"], shipped["body"], now=box.clock.now())
    people = []
    for n in range(count):
        contact = box.person(f"p{n}@example.com", first_name=f"Person {n}")
        box.enqueue(f"cart-{n}", contact, template=TEMPLATE, payload=CART)
        people.append(contact)
    return people


def _drained(box: Outbox) -> tuple[Sender, DispatchReport]:
    """A sender with one rendering process and batches of 4, run until nothing is due."""
    sender = Sender(box.services, box.channels, batch=4, render_processes=1)
    try:
        return sender, sender.drain()
    finally:
        sender.close()


def _statuses(box: Outbox) -> dict[str, int]:
    with box.services.uow.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return {status: count for status, count in rows.all()}  # noqa: C416


def test_a_rendering_process_renders_what_the_sending_thread_would(box: Outbox) -> None:
    _mailing(box, 5)
    settings, now = box.services.settings, box.clock.now()
    with box.services.uow.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        deliveries = [
            Delivery(
                *(r.id, r.idempotency_key, r.contact_id, r.channel, r.template, r.payload),
                recipient={"email": f"p{n}@example.com", "first_name": f"Person {n}"},
            )
            for n, r in enumerate(rows)
        ]
        here = renderer(settings, FrozenClock(now))(session, deliveries)
    sender = mailbox(settings.email_from)
    composing = RenderProcesses(settings, 1, compose_for=(sender, None))
    rendering = RenderProcesses(settings, 1)
    try:
        built_there = composing.submit(deliveries, now).result(timeout=60)
        there = rendering.submit(deliveries, now).result(timeout=60)
    finally:
        composing.close()
        rendering.close()
    assert there == here  # without an e-mail channel to build for: the content as rendered
    assert set(built_there) == {d.outbox_id for d in deliveries}
    for delivery in deliveries:
        content, rendered = built_there[delivery.outbox_id], here[delivery.outbox_id]
        assert isinstance(content, dict)
        assert isinstance(rendered, dict)
        [built] = content.values()  # the e-mail built there, as it is sent, and nothing else
        assert built.sender == sender
        expected = compose(replace(delivery, content=rendered), sender=sender, now=now)
        assert built.composed == expected
    html = there[deliveries[0].outbox_id]
    assert isinstance(html, dict)
    assert "Person 0" in html["html"]


def test_a_large_mailing_goes_out_once_rendered_ahead(box: Outbox) -> None:
    people = _mailing(box, 11)
    sender, report = _drained(box)
    assert report.sent == 11
    assert report.claimed == 11
    assert box.email.repeats == 0
    assert [d.contact_id for d in box.email.deliveries] == people  # oldest first
    assert sender.ahead is not None
    assert sender.ahead.batches == 2
    for n, delivery in enumerate(box.email.deliveries):
        assert f"Person {n}" in delivery.content["html"]
        assert delivery.content["subject"]
    assert _statuses(box) == {"sent": 11}


class _Gate(RecordingChannel):
    """Holds the first send until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__("email")
        self.entered, self.gate = threading.Event(), threading.Event()

    def send(self, delivery: Delivery) -> str:
        self.entered.set()
        self.gate.wait(30)
        return super().send(delivery)


def test_a_stopping_worker_hands_back_the_batch_it_claimed_ahead(box: Outbox) -> None:
    _mailing(box, 16)
    channel = _Gate()
    sender = Sender(box.services, {"email": channel}, batch=4, render_processes=1, poll=0.05)
    sender.start()
    assert channel.entered.wait(60)
    # the first batch's chunk marked sending, the next two batches claimed ahead, one waiting
    assert _statuses(box) == {"sending": 4, "claimed": 8, "pending": 4}
    stopping = threading.Thread(target=sender.stop)
    stopping.start()
    while not sender._stop.is_set():
        time.sleep(0.01)
    channel.gate.set()
    stopping.join(30)
    assert not stopping.is_alive()
    assert len(channel.deliveries) == 1
    assert _statuses(box) == {"sent": 1, "pending": 15}


def test_a_failing_rendering_process_costs_no_message(
    box: Outbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _mailing(box, 8)
    sender = Sender(box.services, box.channels, batch=4, render_processes=1)
    # a rendering process that reads a database without the templates' tables: it fails
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    sender.ahead = RenderProcesses(settings_for(empty), 1)
    try:
        with caplog.at_level(logging.WARNING, logger="lealta.channels.render_ahead"):
            report = sender.drain()
    finally:
        sender.close()
    assert report.sent == 8
    assert report.failed == 0
    assert sender.ahead.batches == 0
    assert "a rendering process failed" in caplog.text
    assert all("html" in d.content for d in box.email.deliveries)


def test_a_rendering_process_that_cannot_start_costs_no_message(
    box: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _mailing(box, 8)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with caplog.at_level(logging.WARNING, logger="lealta.channels.render_ahead"):
        sender, report = _drained(box)
    assert (report.sent, report.failed) == (8, 0)
    assert sender.ahead is not None
    assert sender.ahead.batches == 0
    assert "no rendering process could be started" in caplog.text
    assert _statuses(box) == {"sent": 8}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///:memory:", False),
        ("sqlite://", False),
        ("sqlite:///file:shop?mode=memory&cache=shared&uri=true", False),
        ("sqlite:////var/lib/lealta/lealta.db", True),
        ("sqlite:///lealta.db", True),
        ("postgresql+psycopg://lealta@db/lealta", True),
    ],
)
def test_only_a_database_another_process_can_open_is_rendered_elsewhere(
    url: str, expected: bool
) -> None:
    assert shareable(url) is expected


def test_a_rendering_process_that_died_is_replaced(box: Outbox) -> None:
    _mailing(box, 3)
    with box.services.uow.transaction() as session:
        deliveries = [
            Delivery(r.id, r.idempotency_key, r.contact_id, r.channel, r.template, r.payload)
            for r in session.scalars(select(OutboxMessage))
        ]
    processes = RenderProcesses(box.services.settings, 1)
    try:
        first = processes.submit(deliveries, box.clock.now()).result(60)
        [child] = processes._children
        child.process.kill()
        child.process.wait()
        again = processes.submit(deliveries, box.clock.now()).result(60)
    finally:
        processes.close()
    assert again == first
    assert processes.batches == 2


SCRIPT = """
import datetime as dt, sys
with open(sys.argv[1], "a") as marker:
    marker.write("imported\\n")
from lealta.channels.render_ahead import RenderProcesses
from tests.factories.services import settings_for
processes = RenderProcesses(settings_for(sys.argv[2]), 1)
print(processes.submit([], dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).result(60))
processes.close()
"""


def test_a_script_without_a_main_guard_is_not_run_again_by_its_rendering_process(
    tmp_path: Path,
) -> None:
    script, marker = tmp_path / "mailing.py", tmp_path / "imports.txt"
    script.write_text(SCRIPT)
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, str(script), str(marker), f"sqlite:///{tmp_path / 'shop.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{}"
    assert marker.read_text() == "imported\n"


def test_a_rate_limited_channel_is_not_rendered_ahead(box: Outbox) -> None:
    """Its pace sets how fast it goes; batches claimed ahead would only wait for it."""
    _mailing(box, 9)
    box.services.settings.channel_rate_limits = {"email": 1000.0}
    sender, report = _drained(box)
    assert report.sent == 9
    assert sender.ahead is not None
    assert sender.ahead.batches == 0
