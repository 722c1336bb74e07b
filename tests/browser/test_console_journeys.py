"""Journeys in Chromium on a phone: the library, the diagram and a try fit its width (the
whole campaign on a laptop, with a real SMTP server, is ``test_console_campaign.py``).
Screenshots go to ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.factories import contacts

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
REACTIVATION = "inactive-reactivation"


@pytest.fixture(scope="module")
def people(lealta: Lealta) -> dict[str, str]:
    """A marketer and an inactive customer to try the workflow on."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"journeys-{suffix}@example.com"
    customer = f"carmen-{suffix}@shop.example"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        contacts.person(
            session,
            now,
            email=customer,
            attributes={"first_name": "Carmen"},
            lifecycle_stage="Inactive",
        )
    return {"email": email, "customer": customer}


def _signed_in(
    browser: Any, lealta: Lealta, people: dict[str, str], viewport: dict[str, int]
) -> Any:
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(lealta.url + "/signin")
    page.get_by_label("Email").fill(people["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_the_journey_pages_fit_a_phone(
    browser: Any, lealta: Lealta, people: dict[str, str]
) -> None:
    page = _signed_in(browser, lealta, people, PHONE)
    try:
        page.goto(lealta.url + "/journeys")
        if page.get_by_role(
            "button", name="Use this: Inactive customers, easy reactivation"
        ).count():
            page.get_by_role(
                "button", name="Use this: Inactive customers, easy reactivation"
            ).click()
            page.get_by_text("Installed as a draft").wait_for()
        for shot, path in (
            ("journeys-phone", "/journeys"),
            ("journey-phone", f"/journeys/{REACTIVATION}"),
            (
                "journey-try-phone",
                f"/journeys/{REACTIVATION}/try?contact={people['customer']}"
                "&day=2&kind=clicked&detail=",
            ),
        ):
            page.goto(lealta.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than the phone"
            _shot(page, shot)
        page.goto(lealta.url + f"/journeys/{REACTIVATION}")
        box = page.locator(".flow-box")
        scrolls = box.evaluate(
            "b => b.scrollWidth > b.clientWidth || b.scrollHeight > b.clientHeight"
        )
        assert scrolls  # the diagram scrolls inside its box rather than the page
    finally:
        page.context.close()
