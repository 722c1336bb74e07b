"""Campaign reports in Chromium: an admin reads the report for the last 30 days, follows a
count to the people behind it, reads an A/B verdict and the NPS, then lifts a suppression with
a reason; the pages fit a phone. Screenshots in ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lealta.automations.tables import RunStep
from lealta.feedback.suppressions import suppress
from lealta.feedback.surveys import answer, comment
from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.integration.feedback_reports.conftest import Shop

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
COMMENTS = ("Lovely shoes, quick delivery", "Too many e-mails", "Fine", "The sizes run small")


@pytest.fixture(scope="module")
def shop(lealta: Lealta) -> dict[str, str]:
    """An admin, and three weeks of e-mails (relative to now): opens, clicks, orders, an A/B
    split, NPS answers with comments, a bounce and suppressed addresses."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    admin = f"admin-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=admin, role="admin", password=PASSWORD, now=now)
    store = Shop(lealta.services.uow)
    workflow = f"reactivation-{suffix}"
    store.workflow(workflow)
    people = [
        store.person(f"buyer{i}-{suffix}@{('gmail.com', 'shop.example')[i % 2]}") for i in range(60)
    ]
    for i, who in enumerate(people):
        day = now - dt.timedelta(days=i % 21, hours=1)
        template = ("welcome", "newsletter", "winback")[i % 3]
        sent = store.sent(who, template=template, at=day)
        if i % 2 == 0:
            store.interact(sent, "opened", day + dt.timedelta(minutes=30))
        if i % 5 == 0:
            store.interact(sent, "clicked", day + dt.timedelta(minutes=40))
        if i % 10 == 0:
            store.interact(
                sent,
                "converted",
                day + dt.timedelta(hours=3),
                order_id=f"o-{suffix}-{i}",
                revenue=Decimal("59.90"),
                dedupe_key=f"{sent}:o-{suffix}-{i}",
            )
        branch = "A" if i < 30 else "B"
        run = store.run(workflow, who)
        with lealta.services.uow.transaction() as session:
            session.add(
                RunStep(
                    run_id=run,
                    workflow_id=workflow,
                    step_id="subject-test",
                    outcome=f"split:{branch}",
                    at=day,
                )
            )
        mail = store.sent(who, template=f"comeback-{branch}", run_id=run, step="comeback", at=day)
        if i % 30 < (6 if branch == "A" else 14):
            store.interact(mail, "clicked", day + dt.timedelta(hours=1))
        if i < 12:  # the feedback e-mail's NPS question, answered
            asked = store.sent(who, template="feedback", at=day)
            with lealta.services.uow.transaction() as session:
                answer(session, outbox_id=asked, score=(10, 9, 7, 3)[i % 4], survey="nps", at=day)
                if i < len(COMMENTS):
                    comment(session, outbox_id=asked, survey="nps", text=COMMENTS[i], at=day)
    bounced = store.sent(people[1], template="newsletter", at=now - dt.timedelta(days=2))
    store.interact(
        bounced,
        "bounced",
        now - dt.timedelta(days=2),
        details={"address": f"buyer1-{suffix}@shop.example", "bounce_type": "hard"},
    )
    with lealta.services.uow.transaction() as session:
        for i in (1, 3, 5):
            suppress(
                session,
                channel="email",
                address=f"buyer{i}-{suffix}@shop.example",
                reason="bounce",
                source="ses",
                at=now - dt.timedelta(days=i),
            )
    return {"admin": admin, "suffix": suffix, "workflow": workflow}


def _signed_in(context: Any, lealta: Lealta, shop: dict[str, str]) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(lealta.url + "/signin")
    page.get_by_label("Email").fill(shop["admin"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    page.errors = errors
    return page


@pytest.fixture
def page(browser: Any, lealta: Lealta, shop: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    opened = _signed_in(context, lealta, shop)
    yield opened
    assert opened.errors == []
    context.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_marketer_reads_the_report_and_follows_a_count(page: Any, lealta: Lealta) -> None:
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("heading", name="Campaign reports").wait_for()
    page.get_by_role("link", name="Last 30 days").click()
    page.get_by_label("Group by").select_option("template")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="By template").wait_for()
    assert page.locator(".chart svg").count() == 2
    _shot(page, "reports")
    page.get_by_label("Clicked of welcome:", exact=False).click()
    page.get_by_role("heading", name="Contacts who clicked").wait_for()
    assert page.locator("table tbody tr").count() >= 1
    _shot(page, "report-contacts")


@pytest.mark.browser
def test_the_ab_split_and_nps_are_side_by_side(
    page: Any, lealta: Lealta, shop: dict[str, str]
) -> None:
    page.goto(lealta.url + "/reports")
    splits = page.locator("section", has=page.get_by_role("heading", name="A/B splits"))
    verdicts = splits.locator("ul.verdicts").inner_text()
    assert "B's click rate" in verdicts
    assert "B's click rate 46.7% vs A's 20.0%, n=30 and 30: significant at 95% (p = 0.028)" in (
        verdicts
    )
    nps = page.locator("section", has=page.get_by_role("heading", name="NPS surveys"))
    assert "Too many e-mails" in nps.inner_text()
    nps.get_by_role("link", name="detractors", exact=False).click()
    page.get_by_role("heading", name="detractors", exact=False).wait_for()
    assert page.locator("table tbody tr").count() == 3


@pytest.mark.browser
def test_an_admin_lifts_a_suppression_with_a_reason(
    page: Any, lealta: Lealta, shop: dict[str, str]
) -> None:
    page.goto(lealta.url + "/reports/deliverability")
    page.get_by_role("heading", name="Deliverability").wait_for()
    assert (
        "shop.example"
        in page.locator(
            "section", has=page.get_by_role("heading", name="By recipient domain")
        ).inner_text()
    )
    _shot(page, "deliverability")
    address = f"buyer3-{shop['suffix']}@shop.example"
    page.get_by_label("Address").fill(f"buyer3-{shop['suffix']}")
    page.get_by_role("button", name="Search").click()
    page.get_by_label(f"Why remove {address}").fill("The customer asked us by phone")
    page.get_by_label(f"Why remove {address}").press("Enter")
    page.get_by_text(f"{address} may receive email messages again.").wait_for()
    assert page.locator("table.suppressions").count() == 0


@pytest.mark.browser
def test_report_pages_fit_a_phone(browser: Any, lealta: Lealta, shop: dict[str, str]) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    context.set_default_timeout(10_000)
    try:
        page = _signed_in(context, lealta, shop)
        for name, path in (
            ("reports-phone", "/reports"),
            ("deliverability-phone", "/reports/deliverability"),
            ("report-contacts-phone", "/reports/contacts?kind=nps&survey=nps&period=30"),
        ):
            page.goto(lealta.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than the phone"
            _shot(page, name)
        assert page.errors == []
    finally:
        context.close()
