"""Journeys in Chromium, as a marketer uses them: install "Inactive customers, easy
reactivation" from the library, read its diagram, try it on a contact who clicks on day 2, and
enable it; on a laptop and on a phone. Screenshots go to ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.automations import catalog
from lealta.contacts.tables import Contact, Identifier
from lealta.users.service import create_user
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DESKTOP = {"width": 1280, "height": 900}
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
        contact = Contact(
            attributes={"first_name": "Carmen"}, lifecycle_stage="Inactive", created_at=now
        )
        session.add(contact)
        session.flush()
        session.add(Identifier(contact_id=contact.id, kind="email", value=customer))
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


@pytest.fixture
def desktop(browser: Any, lealta: Lealta, people: dict[str, str]) -> Iterator[Any]:
    """A signed-in laptop page; console errors must stay empty."""
    page = _signed_in(browser, lealta, people, DESKTOP)
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
def test_install_read_try_and_enable_the_reactivation(
    desktop: Any, lealta: Lealta, people: dict[str, str]
) -> None:
    page = desktop
    name = catalog.load_template(REACTIVATION).name
    assert name == "Inactive customers, easy reactivation"
    page.get_by_role("link", name="Journeys", exact=True).click()
    page.get_by_role("heading", name="Library").wait_for()
    _shot(page, "journeys")
    page.get_by_role("button", name=f"Use this: {name}").click()
    page.get_by_text("Installed as a draft").wait_for()

    flow = page.locator("svg.flow")
    assert flow.is_visible()
    steps = {s.id for s in catalog.load_template(REACTIVATION).steps}
    drawn = set(flow.locator("a.step").evaluate_all("links => links.map(a => a.dataset.step)"))
    assert drawn == steps
    assert "Starts when lifecycle stage becomes Inactive" in (flow.text_content() or "")
    page.locator("a.step[data-step='has-history']").focus()  # reachable by keyboard
    _shot(page, "journey")

    page.get_by_role("link", name="Try it on a contact").click()
    page.get_by_label("Contact: e-mail address or id").fill(people["customer"])
    page.get_by_label("New event: day").fill("2")
    page.get_by_label("New event: what they do").select_option("clicked")
    page.get_by_role("button", name="Add this event").click()
    page.get_by_label("Event 1: day").wait_for()
    page.get_by_role("button", name="Simulate").click()
    result = page.locator("ol.days")
    result.wait_for()
    text = result.inner_text()
    assert "Clicks the e-mail reactivation-seasonal" in text
    assert "Reaches 'partially-active'" in text
    assert "last-chance" not in text
    _shot(page, "journey-try")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="See the message").first.click()
    message = opened.value
    message.wait_for_load_state()
    assert "Carmen" in message.content() or message.content().strip()
    message.close()

    page.get_by_role("link", name=name).click()
    page.get_by_role("button", name="Enable").click()
    page.get_by_text("Enabled: people who match the trigger now enter it.").wait_for()
    assert page.get_by_role("button", name="Pause").is_visible()
    page.locator("a.step[data-step='window']").click()
    page.get_by_role("heading", name="Waiting here now").wait_for()
    _shot(page, "journey-step")


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
