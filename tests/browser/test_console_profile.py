"""A rich contact's page in Chromium: orders, a message opened and clicked, a score history,
stage changes, RFM with a segment move, a voucher; on a laptop and a phone (screenshots kept
in ``test-artifacts/console/``); a marketer grants consent and sees it on the timeline."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lealta.channels.outbox import enqueue
from lealta.feedback.service import record
from lealta.lifecycle.tables import StageChange
from lealta.messages.tables import MessageTemplate
from lealta.scoring.engine import ScoreState
from lealta.scoring.tables import ScoreChange
from lealta.users.service import create_user
from lealta.vouchers.service import issue
from tests.browser.conftest import Lealta
from tests.factories import contacts, events, orders, scores

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _rich_contact(session: Any, suffix: str, now: dt.datetime) -> str:
    cid = contacts.person(
        session,
        now - dt.timedelta(days=200),
        email=f"marta-{suffix}@shop.example",
        attributes={"first_name": "Marta", "last_name": "Rossi", "city": "Rome"},
        lifecycle_stage="Customer",
        score=42,
        score_state=ScoreState(score=42.0, as_of=now - dt.timedelta(days=20)).to_dict(),
        first_seen_at=now - dt.timedelta(days=200),
        last_seen_at=now - dt.timedelta(days=2),
    ).id
    stages = [(None, "Subscriber", 200), ("Subscriber", "Lead", 150), ("Lead", "Customer", 90)]
    for old, new, days in stages:
        session.add(
            StageChange(
                contact_id=cid,
                from_stage=old,
                to_stage=new,
                rule_id="demo",
                cause="test",
                changed_at=now - dt.timedelta(days=days),
            )
        )
    score = 0.0
    for i, (points, days) in enumerate([(5, 150), (10, 120), (15, 90), (-3, 60), (15, 20)]):
        score += points
        session.add(
            ScoreChange(
                contact_id=cid,
                rule_id=f"rule-{i}",
                points=points,
                score_after=score,
                event_key=f"e{i}-{suffix}",
                occurred_at=now - dt.timedelta(days=days),
            )
        )
    for i in range(12):
        orders.order(
            session,
            cid,
            f"ORD-{suffix}-{i}",
            at=now - dt.timedelta(days=90 - i * 7),
            amount=Decimal("34.50") + i,
            channel="web",
            items=[{"sku": "tea", "quantity": 2}, {"sku": "cup"}],
        )
    scores.rfm(
        session, cid, "Champions", at=now, f=5, recency_days=13, frequency=12, monetary=480.0
    )
    events.event(
        session,
        cid,
        "Segment Entered",
        at=now - dt.timedelta(days=6),
        properties={"segment": "Champions", "from": "Loyal Customers"},
        message_id=f"seg-{suffix}",
    )
    if session.get(MessageTemplate, "spring-sale") is None:
        session.add(
            MessageTemplate(
                id="spring-sale", channel="email", body={"subject": "Spring teas: 20% off"}
            )
        )
    session.flush()
    sent = enqueue(
        session,
        key=f"profile-test:{suffix}",
        contact_id=cid,
        channel="email",
        template="spring-sale",
        payload={"workflow": "spring", "step": "mail"},
        not_before=now - dt.timedelta(days=4),
        now=now - dt.timedelta(days=4),
    )
    assert sent is not None
    sent.status, sent.sent_at = "sent", now - dt.timedelta(days=4)
    session.flush()
    record(session, outbox_id=sent.id, kind="opened", at=now - dt.timedelta(days=3))
    record(
        session,
        outbox_id=sent.id,
        kind="clicked",
        at=now - dt.timedelta(days=3),
        url="https://shop.example/spring",
    )
    issue(
        session,
        key=f"profile-test:{suffix}",
        contact_id=cid,
        kind="percent",
        value=10,
        valid_days=30,
        now=now,
        source="api",
    )
    return cid


@pytest.fixture(scope="module")
def marta(lealta: Lealta) -> dict[str, str]:
    """A marketer and a contact with a rich history."""
    now = lealta.services.clock.now()
    suffix = uuid.uuid4().hex[:6]
    email = f"profile-marketer-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        contact_id = _rich_contact(session, suffix, now)
    return {"email": email, "id": contact_id}


def _signed_in(browser: Any, lealta: Lealta, email: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(lealta.url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    return page


@pytest.fixture
def desktop(browser: Any, lealta: Lealta, marta: dict[str, str]) -> Iterator[Any]:
    page = _signed_in(browser, lealta, marta["email"], DESKTOP)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.context.close()
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_rich_contact_shows_charts_orders_messages_and_vouchers(
    desktop: Any, lealta: Lealta, marta: dict[str, str]
) -> None:
    desktop.goto(f"{lealta.url}/contacts/{marta['id']}")
    desktop.get_by_role("heading", name="Marta Rossi").wait_for()
    assert desktop.get_by_role("img", name="Lead score over time").is_visible()
    assert (
        desktop.locator("svg[aria-label='Lead score over time'] circle[fill='#2563eb']").count()
        == 5
    )
    assert desktop.get_by_role("img", name="Lifecycle stages reached").is_visible()
    rfm = desktop.locator("#rfm").inner_text()
    assert "Last order 13 days ago, 12 orders, €480 spent" in rfm
    assert "Loyal Customers → Champions" in rfm
    orders = desktop.locator("#orders tbody tr")
    assert orders.count() == 10
    assert "ORD-" in orders.first.inner_text()
    messages = desktop.locator("#messages").inner_text()
    assert "Spring teas: 20% off" in messages
    assert "opened" in messages
    assert "clicked" in messages
    assert "10% off" in desktop.get_by_role("region", name="Vouchers").inner_text()
    desktop.get_by_role("link", name="Older orders →").click()
    desktop.wait_for_url("**orders_before=**")
    assert desktop.locator("#orders tbody tr").count() == 2
    desktop.goto(f"{lealta.url}/contacts/{marta['id']}")
    _shot(desktop, "contact-profile")


@pytest.mark.browser
def test_a_marketer_grants_consent_and_sees_it_on_the_timeline(
    desktop: Any, lealta: Lealta, marta: dict[str, str]
) -> None:
    desktop.goto(f"{lealta.url}/contacts/{marta['id']}")
    desktop.get_by_role("button", name="Grant SMS consent").click()
    desktop.get_by_role("button", name="Withdraw SMS consent").wait_for()
    desktop.get_by_role("link", name="Consent", exact=True).click()
    desktop.wait_for_url("**kind=consent**")
    timeline = desktop.locator("ol.timeline").inner_text()
    assert f"Consent sms granted (via console) by console:{marta['email']}" in timeline


@pytest.mark.browser
def test_the_contact_page_fits_a_phone(browser: Any, lealta: Lealta, marta: dict[str, str]) -> None:
    page = _signed_in(browser, lealta, marta["email"], PHONE)
    try:
        page.goto(f"{lealta.url}/contacts/{marta['id']}")
        page.get_by_role("heading", name="Marta Rossi").wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the contact page is {overflow}px wider than the phone"
        _shot(page, "contact-profile-phone")
    finally:
        page.context.close()
