"""Personalised e-mail at volume: Lealta renders and delivers N messages to a local SMTP
server, beside the floor: the same messages, pre-built, sent by a bare ``smtplib`` loop over
one connection, in the same run.

The server is Postfix's ``smtp-sink`` (Debian package ``postfix``), which accepts and drops
mail in C; aiosmtpd, pure Python, would measure itself. Setup, not timed: a fresh database
(SQLite by default, opened as ``lealta worker`` opens it: every commit synced to disk) with N
contacts (first name, e-mail, consent), the shipped template ``cart-reminder-1`` (HTML with
the person's name, the cart's three products with links and prices, unsubscribe link; plain
text made from the HTML) and N outbox messages, each with its own cart. Timed: the worker's
sending threads (``LEALTA_SEND_THREADS``) and rendering processes
(``LEALTA_RENDER_PROCESSES``) doing everything a real send does (claim with consent,
suppression list and caps checked for the batch, render each message for its person with
tracked links, the open pixel and List-Unsubscribe headers, build the MIME message, send it
over a pooled SMTP connection, record the outcome and the ``Message Sent`` event). Quiet hours
are off, so the figure does not depend on the time of day.

    python benchmarks/send.py --quick                 # 2,000 messages
    python benchmarks/send.py                         # 100,000 messages on SQLite
    python benchmarks/send.py --workers 2             # two worker processes, one per core
    python benchmarks/send.py --database postgresql --messages 20000
    python benchmarks/send.py --mjml                  # the same e-mail written in MJML

``--mjml`` sends the same cart reminder written in MJML (:data:`MJML_BODY`): the MJML is
converted to HTML once per template version and the person's parts filled in after.
Lealta's CPU seconds are printed beside the floor's, as CPU microseconds per message: on a
machine shared with other work the wall-clock rates mislead, the CPU per message does not.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import shutil
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from lealta.bootstrap import Services
from lealta.channels.base import Delivery
from lealta.channels.dispatcher import DispatchReport
from lealta.channels.email import EmailChannel, compose, mailbox
from lealta.channels.sender import BATCH, Sender  # the worker's own batch size
from lealta.channels.tables import OutboxMessage
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.contacts.tables import Contact, Identifier
from lealta.messages import catalog
from lealta.messages.service import RenderRequest, render_many, save
from lealta.storage.engine import make_engine
from lealta.storage.migrate import upgrade
from lealta.storage.unit_of_work import UnitOfWork
from people import insert_chunked, reachable_by_email
from scratch import scratch_database

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TEMPLATE = "cart-reminder-1"
# cart-reminder-1's English e-mail, written in MJML.
MJML_BODY = {
    "subject": "{{ contact.first_name | default('Hi') }}, your cart is waiting",
    "preheader": "The items you picked are still in your cart.",
    "mjml": """<mjml><mj-body background-color="#f4f4f4"><mj-section background-color="#ffffff">
  <mj-column>
    <mj-text font-size="15px">Hello {{ contact.first_name | default("there") }},</mj-text>
    <mj-text font-size="15px">You left these in your cart:</mj-text>
    <mj-table>
      {% for item in trigger.properties.products %}
      <tr>
        <td>{% if item.url %}<a href="{{ item.url }}">{{ item.name }}</a>
          {%- else %}{{ item.name }}{% endif %}
          {% if item.quantity and item.quantity > 1 %}&times; {{ item.quantity }}{% endif %}</td>
        <td>{{ item.price | money(trigger.properties.currency | default("EUR")) }}</td>
      </tr>
      {% endfor %}
    </mj-table>
    {% if trigger.properties.url %}
    <mj-button href="{{ trigger.properties.url }}">Return to your cart</mj-button>
    {% endif %}
    <mj-text font-size="11px" color="#777777">
      <a href="{{ links.unsubscribe }}">Unsubscribe</a>
    </mj-text>
  </mj-column>
</mj-section></mj-body></mjml>
""",
}
DEFAULT_MESSAGES = 100_000
QUICK_MESSAGES = 2_000
SEED = 11
TARGET = 2_000.0  # personalised messages per second, one worker (issue 16)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NAMES = ("Ana", "Bo", "Chen", "Dolores", "Émile", "Farida", "Giorgos", "Hana", "Iker", "Júlia")
PRODUCTS = (
    ("Green tea, 100 g", 12.5),
    ("Cast-iron teapot", 49.0),
    ("Bamboo whisk", 8.9),
    ("Matcha bowl", 24.0),
    ("Oolong sampler", 18.75),
)


# -- setting up --------------------------------------------------------------------------------


def build(uow: UnitOfWork, count: int, mjml: bool = False) -> list[str]:
    """``count`` people with an e-mail and consent, the template (in MJML when ``mjml``), and
    one message each."""
    draw = random.Random(SEED)
    ids = [f"{draw.getrandbits(128):032x}" for _ in range(count)]
    seen = T0 - dt.timedelta(days=30)
    insert_chunked(
        uow,
        Contact.__table__,
        (
            {
                "id": cid,
                "created_at": seen,
                "updated_at": seen,
                "attributes": {"first_name": NAMES[i % len(NAMES)], "language": "en"},
                "lifecycle_stage": "customer",
                "score": 0.0,
                "score_state": {},
                "first_seen_at": seen,
                "last_seen_at": seen,
            }
            for i, cid in enumerate(ids)
        ),
    )
    reachable_by_email(uow, ids, at=seen)
    [document] = [d for d in catalog.shipped() if d["id"] == TEMPLATE]
    with uow.transaction() as session:
        body = MJML_BODY if mjml else document["body"]
        save(session, TEMPLATE, document["channel"], body, now=seen)

    def cart(i: int) -> list[dict[str, Any]]:
        chosen = random.Random(SEED + i).sample(PRODUCTS, 3)
        return [
            {
                "name": name,
                "price": price,
                "quantity": 1 + (i + n) % 2,
                "url": f"https://shop.example/p/{n}-{i % 997}",
            }
            for n, (name, price) in enumerate(chosen)
        ]

    insert_chunked(
        uow,
        OutboxMessage.__table__,
        (
            {
                "idempotency_key": f"bench:{i}",
                "contact_id": cid,
                "run_id": None,
                "channel": "email",
                "template": TEMPLATE,
                "payload": {
                    "trigger": {
                        "event": "Checkout Started",
                        "properties": {
                            "products": cart(i),
                            "currency": "EUR",
                            "url": "https://shop.example/cart",
                        },
                    }
                },
                "priority": 0,
                "status": "pending",
                "attempts": 0,
                "not_before": seen,
                "created_at": seen,
            }
            for i, cid in enumerate(ids)
        ),
    )
    if uow.engine.dialect.name == "postgresql":
        with uow.transaction() as session:
            for name in ("contacts", "identifiers", "consents", "outbox"):
                session.execute(text(f"ANALYZE {name}"))  # constant names
    return ids


# -- the SMTP server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def smtp_sink() -> Iterator[int]:
    """Postfix's smtp-sink on a free port; its port."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        sys.exit("smtp-sink not found: install the Debian package postfix (see the docstring)")
    port = _free_port()
    command = [binary, "-c", f"127.0.0.1:{port}", "1000"]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # smtp-sink refuses to run as root
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                sys.exit("smtp-sink did not start")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


# -- measuring ---------------------------------------------------------------------------------


def lealta_send(services: Services, channel: EmailChannel, count: int) -> DispatchReport:
    """The worker's sending threads and rendering processes (as ``lealta worker`` runs them),
    until nothing is due; the rendering processes stopped before returning, so their CPU
    time is counted in ``os.times()``'s children."""
    sender = Sender(services, {"email": channel}, batch=BATCH)
    try:
        return sender.drain()
    finally:
        sender.close()


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that ended (rendering processes)."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


def _worker_process(settings: Settings, results: Any) -> None:
    """One more ``lealta worker`` (its own process, engine and SMTP connections)."""
    uow = UnitOfWork(make_engine(settings.database_url, durable=True))  # as the worker's
    channel = EmailChannel.from_settings(settings)
    try:
        report = lealta_send(Services(settings, uow, FrozenClock(T0)), channel, 0)
        results.put(report.sent)
    finally:
        channel.close()
        uow.engine.dispose()


def lealta_send_processes(settings: Settings, workers: int) -> tuple[int, float, float]:
    """``workers`` worker processes sending side by side until nothing is due: messages sent,
    wall-clock seconds, CPU seconds of the processes."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    before = os.times()
    started = time.perf_counter()
    processes = [
        context.Process(target=_worker_process, args=(settings, results)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    sent = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return sent, seconds, cpu


def prebuilt(services: Services, sender: str) -> list[tuple[str, bytes]]:
    """The same messages, rendered and built beforehand (not timed)."""
    built: list[tuple[str, bytes]] = []
    with services.uow.transaction() as session:
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.contact_id,
                OutboxMessage.idempotency_key,
                OutboxMessage.payload,
                Identifier.value,
            )
            .join(Identifier, Identifier.contact_id == OutboxMessage.contact_id)
            .order_by(OutboxMessage.id)
        ).all()
        for start in range(0, len(rows), BATCH):
            part = rows[start : start + BATCH]
            contents = render_many(
                session,
                services.settings,
                [RenderRequest(r.id, TEMPLATE, r.contact_id, r.payload) for r in part],
                now=services.clock.now(),
            )
            for r in part:
                content = contents[r.id]
                assert isinstance(content, dict), content
                delivery = Delivery(
                    r.id,
                    r.idempotency_key,
                    r.contact_id,
                    "email",
                    TEMPLATE,
                    r.payload,
                    {"email": r.value},
                    content=content,
                )
                composed = compose(delivery, sender=mailbox(sender), now=services.clock.now())
                built.append((composed.recipient, composed.data))
    return built


def smtplib_floor(
    port: int, sender: str, messages: Sequence[tuple[str, bytes]]
) -> tuple[float, float]:
    """Seconds and CPU seconds for a bare smtplib loop over one connection."""
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for recipient, data in messages:
            connection.sendmail(sender, [recipient], data)
    return time.perf_counter() - started, time.process_time() - cpu


def run(
    kind: str, count: int, admin_url: str, workers: int = 1, mjml: bool = False
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "database": kind,
        "messages": count,
        "workers": workers,
        "template": "mjml" if mjml else "html",
    }
    with scratch_database(kind, admin_url, prefix="lealta_send") as url, smtp_sink() as port:
        upgrade(url)
        uow = UnitOfWork(make_engine(url, durable=True))  # the worker's: every commit synced
        settings = Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings'
            _env_file=None,
            database_url=url,
            environment="test",
            secret_key="benchmark-secret",
            public_url="https://mail.shop.example",
            smtp_host="127.0.0.1",
            smtp_port=port,
            email_from="Tea Shop <news@shop.example>",
            quiet_hours="",
            frequency_caps=[],
        )
        services = Services(settings, uow, FrozenClock(T0))
        try:
            started = time.perf_counter()
            build(uow, count, mjml)
            figures["setup_seconds"] = time.perf_counter() - started
            print(f"  setup: {count:,} contacts and messages  {figures['setup_seconds']:.1f} s")
            if workers == 1:
                channel = EmailChannel.from_settings(settings)
                try:
                    started, (own, children) = time.perf_counter(), cpu_seconds()
                    sent_now = lealta_send(services, channel, count).sent
                    seconds = time.perf_counter() - started
                    own_after, children_after = cpu_seconds()
                    own, children = own_after - own, children_after - children
                    cpu = own + children
                    figures["cpu_split"] = {"sending": own, "rendering": children}
                finally:
                    channel.close()
            else:
                uow.engine.dispose()  # the worker processes open their own
                sent_now, seconds, cpu = lealta_send_processes(settings, workers)
            with uow.transaction() as session:
                sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            figures["lealta"] = {
                "sent": sent_now,
                "sent_rows": sent,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "messages_per_s": sent_now / seconds,
            }
            if sent_now != count or sent != count:
                print(f"  WARNING: expected {count:,} sent, got {sent_now} / {sent} rows")
            messages = prebuilt(services, settings.email_from)
            floor, floor_cpu = smtplib_floor(port, "news@shop.example", messages)
            figures["floor"] = {
                "seconds": floor,
                "cpu_seconds": floor_cpu,
                "messages_per_s": len(messages) / floor,
            }
            figures["average_message_bytes"] = sum(len(d) for _, d in messages) / len(messages)
        finally:
            uow.engine.dispose()
    lealta, floor = figures["lealta"], figures["floor"]
    figures["floor_over_lealta"] = floor["messages_per_s"] / lealta["messages_per_s"]
    lealta["cpu_us_per_message"] = lealta["cpu_seconds"] / max(lealta["sent"], 1) * 1e6
    floor["cpu_us_per_message"] = floor["cpu_seconds"] / count * 1e6
    figures["cpu_lealta_over_floor"] = lealta["cpu_us_per_message"] / floor["cpu_us_per_message"]
    # the target is set at 100,000 messages: a short run is mostly warming up
    met = lealta["messages_per_s"] >= TARGET
    figures["target_met"] = met if count >= DEFAULT_MESSAGES else None
    verdict = {True: "met", False: "MISSED", None: "n/a, set for 100,000 messages"}[
        figures["target_met"]
    ]
    split = ""
    if figures.get("cpu_split", {}).get("rendering"):
        parts = figures["cpu_split"]
        split = (
            f": sending process {parts['sending']:.1f} s, "
            f"rendering process {parts['rendering']:.1f} s"
        )
    print(
        f"  Lealta (render + deliver + record, {figures['template'].upper()} template), "
        f"{workers} worker process"
        f"{'es' if workers > 1 else ''}: {lealta['messages_per_s']:,.0f} messages/s "
        f"({lealta['seconds']:.1f} s, CPU {lealta['cpu_seconds']:.1f} s{split})\n"
        f"  bare smtplib, pre-built, one connection (floor): {floor['messages_per_s']:,.0f} "
        f"messages/s ({floor['seconds']:.1f} s, CPU {floor['cpu_seconds']:.1f} s); "
        f"floor / Lealta {figures['floor_over_lealta']:.2f}x\n"
        f"  CPU per message: Lealta {lealta['cpu_us_per_message']:,.0f} us, floor "
        f"{floor['cpu_us_per_message']:,.0f} us ({figures['cpu_lealta_over_floor']:.2f}x)\n"
        f"  average message: {figures['average_message_bytes']:,.0f} bytes; target >= "
        f"{TARGET:,.0f}/s: {verdict} "
        f"(listmonk's default rate is 100/s; its authors report ~830/s from one mail node)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="how many")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES:,} messages")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), default="sqlite", help="the state store"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LEALTA_TEST_POSTGRES_URL") or POSTGRES_URL,
        help="an admin URL; a throwaway database is created and dropped",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="lealta worker processes sending side by side (default 1; as many as cores to "
        "use the whole machine)",
    )
    parser.add_argument(
        "--mjml", action="store_true", help="the same e-mail written in MJML (see the docstring)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    count = QUICK_MESSAGES if args.quick else args.messages
    print(
        f"send benchmark: {count:,} personalised e-mails, {args.database}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    figures = run(args.database, count, args.postgres_url, args.workers, args.mjml)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
