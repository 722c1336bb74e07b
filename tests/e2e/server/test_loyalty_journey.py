"""The loyalty journey end to end, against a real ``lealta serve`` sending through a real SMTP
server (aiosmtpd): a programme is saved, the shipped "Welcome to a new loyalty tier" workflow
and the reminder it starts are installed from the library and enabled, orders arrive through
the API, tier reviews run (``POST /v1/loyalty/assign``, or the worker's own review of the
customers whose orders just arrived), and the welcome e-mails arrive naming each customer's
new tier and the codes of its benefits, in the customer's language."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.e2e.server.conftest import Server, free_port
from tests.integration.channels_email.conftest import Mailroom, smtp_server

PROGRAM = """
name: Friends
currency: EUR
window_days: 365
tiers:
  - name: Member
    benefits: [{type: free_shipping, code: SHIP50, min_order: 50}]
  - name: Silver
    qualify: {orders: 2}
    benefits: [{type: percent_discount, code: SILVER5, percent: 5}]
  - name: Gold
    qualify: {any: [{orders: 4}, {spend: 500}]}
    benefits:
      - {type: percent_discount, code: GOLD10, percent: 10}
      - {type: early_access, code: GOLD-EARLY, hours: 48}
"""
WORKFLOW = "loyalty-tier-welcome"
REMINDER = "loyalty-tier-reminder"  # the workflow the welcome starts, and its e-mail


@contextmanager
def _serving(folder: Path, **settings: str) -> Iterator[tuple[Server, Mailroom]]:
    """``lealta serve`` (with its worker) on a fresh SQLite store in ``folder``, sending e-mail
    to an aiosmtpd server in this process; no quiet hours, since the test may run at any hour;
    ``settings`` are more ``LEALTA_*`` variables."""
    room = Mailroom()
    with smtp_server(room) as smtp_port:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        env.update(
            LEALTA_DATABASE_URL=f"sqlite:///{folder / 'lealta.db'}",
            LEALTA_ENVIRONMENT="test",
            LEALTA_SECRET_KEY="loyalty-journey-secret",
            LEALTA_CONFIG_FILE=str(folder / "absent.toml"),
            LEALTA_SMTP_HOST="127.0.0.1",
            LEALTA_SMTP_PORT=str(smtp_port),
            LEALTA_EMAIL_FROM="Tea Shop <news@tea.example>",
            LEALTA_QUIET_HOURS="",
            **settings,
        )
        running = Server(folder, free_port(), env)
        running.start()
        running.issue_keys()
        try:
            yield running, room
        finally:
            running.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Server, Mailroom]]:
    """A server whose worker reviews no tiers by itself: the test asks for each review."""
    with _serving(tmp_path, LEALTA_LOYALTY_REVIEW_HOUR="-1", LEALTA_LOYALTY_ORDERS_EVERY="0") as up:
        yield up


@pytest.fixture
def shop_reviewing_orders(tmp_path: Path) -> Iterator[tuple[Server, Mailroom]]:
    """A server whose worker reviews every customer once a day from 00:00 UTC (so at once)
    and, from then on, the customers with new orders every second."""
    with _serving(tmp_path, LEALTA_LOYALTY_REVIEW_HOUR="0", LEALTA_LOYALTY_ORDERS_EVERY="1") as up:
        yield up


def _setup(client: httpx.Client) -> None:
    """The programme, and the welcome workflow with the reminder it starts, installed from the
    library with their e-mails and enabled."""
    saved = client.put(
        "/v1/loyalty/program", content=PROGRAM, headers={"Content-Type": "application/yaml"}
    )
    assert saved.status_code == 200, saved.text
    for workflow in (WORKFLOW, REMINDER):
        installed = client.post(f"/v1/automations/templates/{workflow}")
        assert installed.status_code == 201, installed.text
        assert installed.json()["templates_installed"] == [workflow]
        enabled = client.post(f"/v1/automations/{workflow}/enable")
        assert enabled.status_code == 200, enabled.text


def _wait_for(check: Callable[[], Any], what: str, server: Server, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    log = (server.directory / "server.log").read_text()
    raise AssertionError(f"{what} did not happen in {timeout} s; server log:\n{log}")


def _customer(client: httpx.Client, server: Server, user: str, traits: dict[str, str]) -> str:
    """A customer known by e-mail who agreed to receive it; their contact id."""
    sent = client.post(
        "/v1/identify", auth=(server.track_key, ""), json={"userId": user, "traits": traits}
    )
    assert sent.status_code == 200, sent.text

    def found() -> str | None:
        answer = client.get("/v1/contacts", params={"user_id": user}).json()
        return answer["contacts"][0]["id"] if answer["contacts"] else None

    contact_id: str = _wait_for(found, f"{user}'s profile", server)
    granted = client.put(f"/v1/contacts/{contact_id}/consent/email", json={"status": "granted"})
    assert granted.status_code == 200, granted.text
    return contact_id


def _orders(client: httpx.Client, server: Server, orders: list[tuple[str, str, int, str]]) -> None:
    """Post (customer, order id, days ago, amount) orders and wait until all are stored."""
    now = dt.datetime.now(dt.UTC)
    batch = [
        {
            "user_id": user,
            "id": order_id,
            "placed_at": (now - dt.timedelta(days=days)).isoformat(),
            "amount": amount,
        }
        for user, order_id, days, amount in orders
    ]
    answer = client.post("/v1/orders/batch", json={"orders": batch})
    assert answer.json()["accepted"] == len(orders), answer.text
    wanted = {order_id for _, order_id, _, _ in orders}

    def stored() -> bool:
        listed = client.get("/v1/orders", params={"limit": 1000}).json()["orders"]
        return wanted <= {row["id"] for row in listed}

    _wait_for(stored, "the orders' arrival", server)


def _review(client: httpx.Client) -> dict[str, Any]:
    answer = client.post("/v1/loyalty/assign")
    assert answer.status_code == 200, answer.text
    review: dict[str, Any] = answer.json()
    return review


def _mail_to(room: Mailroom, address: str) -> list[EmailMessage]:
    return [r.message for r in room.received if r.rcpt_tos == [address]]


def _parts(message: EmailMessage) -> tuple[str, str]:
    """The HTML and the text part of ``message``, whitespace collapsed."""
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None
    assert text is not None
    return " ".join(html.get_content().split()), " ".join(text.get_content().split())


def test_orders_a_review_and_the_welcome_e_mail_shows_the_new_tier_and_its_codes(
    shop: tuple[Server, Mailroom],
) -> None:
    server, room = shop
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=admin) as client:
        _setup(client)

        carla = _customer(
            client, server, "carla", {"email": "carla@example.com", "first_name": "Carla"}
        )
        giulia = _customer(
            client,
            server,
            "giulia",
            {"email": "giulia@example.com", "first_name": "Giulia", "language": "it"},
        )
        _orders(
            client,
            server,
            [
                ("carla", "c-1", 40, "35.00"),
                ("giulia", "g-1", 30, "60.00"),
                ("giulia", "g-2", 9, "45.50"),
            ],
        )

        # the first review: Carla becomes a Member, Giulia Silver; both are welcomed
        first = _review(client)
        assert first["tiers"] == {"Member": 1, "Silver": 1, "Gold": 0}
        assert first["upgraded"] == 2
        _wait_for(lambda: len(room.received) >= 2, "the first two welcome e-mails", server)

        [member] = _mail_to(room, "carla@example.com")
        assert member["Subject"] == "Carla, you are now Member"
        html, text = _parts(member)
        for part in (html, text):
            assert "Free shipping on orders of €50.00 or more" in part
            assert "SHIP50" in part
            assert "Next up: Silver." in part
        assert "Code at checkout: SHIP50" in text

        [silver] = _mail_to(room, "giulia@example.com")
        assert silver["Subject"] == "Giulia, ora sei Silver"
        card = client.get(f"/v1/contacts/{giulia}/loyalty").json()
        codes = [benefit["code"] for benefit in card["benefits"]]
        assert codes == ["SHIP50", "SILVER5"]  # the shop's checkout reads the same codes
        html, text = _parts(silver)
        for part in (html, text):
            assert all(code in part for code in codes)
            assert "5% di sconto su ogni ordine" in part
            assert "Il prossimo livello: Gold." in part

        # three more orders take Carla to Gold at the next review: a second welcome
        _orders(
            client,
            server,
            [
                ("carla", "c-2", 20, "80.00"),
                ("carla", "c-3", 6, "120.00"),
                ("carla", "c-4", 2, "64.90"),
            ],
        )
        second = _review(client)
        assert second["tiers"] == {"Member": 0, "Silver": 1, "Gold": 1}
        assert second["upgraded"] == 1
        _wait_for(lambda: len(room.received) >= 3, "Carla's Gold welcome", server)

        gold = _mail_to(room, "carla@example.com")[-1]
        assert gold["Subject"] == "Carla, you are now Gold"
        card = client.get(f"/v1/contacts/{carla}/loyalty").json()
        assert card["tier"] == "Gold"
        codes = [benefit["code"] for benefit in card["benefits"]]
        assert codes == ["SHIP50", "GOLD10", "GOLD-EARLY"]
        html, text = _parts(gold)
        for part in (html, text):
            assert all(code in part for code in codes)
            assert "(up from Member)" in part  # the tier event's own details
            assert "10% off every order" in part
            assert "Sales open to you 48 hours before everyone else" in part
            assert "Gold is our highest tier." in part
        assert "Unsubscribe</a>" in html

        welcomes = client.get(f"/v1/automations/{WORKFLOW}/stats").json()
        assert (welcomes["entered"], welcomes["waiting"]) == (3, 0)
        reminders = client.get(f"/v1/automations/{REMINDER}/stats").json()
        assert (reminders["entered"], reminders["waiting"]) == (2, 2)  # one each, in 14 days
        time.sleep(1)  # nothing else is on its way: the reminders wait two weeks
        assert len(room.received) == 3


def test_orders_arriving_move_a_customer_up_and_the_welcome_follows_without_asking(
    shop_reviewing_orders: tuple[Server, Mailroom],
) -> None:
    server, room = shop_reviewing_orders
    admin = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=admin) as client:
        _setup(client)

        def daily_review_done() -> bool:
            marks = client.get("/v1/jobs", params={"kind": "loyalty_review"}).json()["jobs"]
            return any(job["id"] == "loyalty-review-daily" for job in marks)

        # the day's full review (nobody has ordered yet) starts the reviews of new orders
        _wait_for(daily_review_done, "the worker's daily review", server)
        dora = _customer(
            client, server, "dora", {"email": "dora@example.com", "first_name": "Dora"}
        )
        _orders(client, server, [("dora", "d-1", 3, "520.00")])  # Gold: €500 in a year
        # no review asked for: the worker reviews Dora as her orders arrive
        _wait_for(lambda: room.received, "the welcome e-mail", server)
        [gold] = _mail_to(room, "dora@example.com")
        assert gold["Subject"] == "Dora, you are now Gold"
        html, text = _parts(gold)
        for part in (html, text):
            assert all(code in part for code in ("SHIP50", "GOLD10", "GOLD-EARLY"))
        card = client.get(f"/v1/contacts/{dora}/loyalty").json()
        assert card["tier"] == "Gold"
        orders_mark = client.get("/v1/jobs/loyalty-review-orders").json()
        assert orders_mark["result"]["upgraded"] == 1  # the partial review moved her up
