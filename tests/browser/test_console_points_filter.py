"""The contacts page's loyalty points filter in Chromium: customers with 600, 200 (700, then
500 redeemed) and no points; "Points at least", "Points at most", their chips, and a bad
value named. The screenshot is kept in ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.loyalty import ledger, service
from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.factories import contacts
from tests.integration.loyalty.points_helpers import POINTS_PROGRAM

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


@pytest.fixture(scope="module")
def shop(lealta: Lealta) -> dict[str, str]:
    """A marketer, and Ana (600 points), Ben (200 now) and Cruz (none), one surname."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    surname = f"Puntos{suffix}"
    found = {"surname": surname, "user": f"marketer-{suffix}@example.com"}
    with lealta.services.uow.transaction() as session:
        create_user(session, email=found["user"], role="marketer", password=PASSWORD, now=now)
        service.save(session, POINTS_PROGRAM, now=now)
        for n, first in enumerate(("Ana", "Ben", "Cruz")):
            contact = contacts.person(
                session,
                now - dt.timedelta(minutes=10 - n),
                email=f"{first.lower()}-{suffix}@shop.example",
                attributes={"first_name": first, "last_name": surname},
            )
            found[first] = contact.id
    for first, points in (("Ana", 600), ("Ben", 700), ("Ben", -500)):
        with lealta.services.uow.transaction() as session:
            ledger.adjust(
                session,
                found[first],
                service.require(session).program,
                points=points,
                reason="browser test",
                key=f"{first}-{points}",
                now=now,
                actor="test",
            )
    return found


@pytest.fixture
def page(browser: Any, lealta: Lealta, shop: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(lealta.url + "/signin")
    opened.get_by_label("Email").fill(shop["user"])
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    opened.get_by_role("heading", name="Overview").wait_for()
    yield opened
    context.close()
    assert errors == []


@pytest.mark.browser
def test_filter_contacts_by_points_balance(page: Any, lealta: Lealta, shop: dict[str, str]) -> None:
    page.goto(f"{lealta.url}/contacts?q={shop['surname']}")
    assert page.locator(".matching strong").inner_text() == "3 contacts"
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Points at least", exact=True).fill("500")
    page.get_by_role("button", name="Show contacts").click()
    assert page.locator(".matching strong").inner_text() == "1 contact"
    assert shop["Ana"] in page.content()
    # the filters stay open while one is active
    page.get_by_label("Points at least", exact=True).fill("")
    page.get_by_label("Points at most", exact=True).fill("200")
    page.get_by_role("button", name="Show contacts").click()
    assert page.locator(".matching strong").inner_text() == "2 contacts"  # Ben 200, Cruz 0
    html = page.content()
    assert shop["Ben"] in html
    assert shop["Cruz"] in html
    assert shop["Ana"] not in html
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "contacts-points-filter.png"), full_page=True)
    page.get_by_role("link", name="Remove filter Points at most: 200").click()
    assert page.locator(".matching strong").inner_text() == "3 contacts"


@pytest.mark.browser
def test_a_bad_points_value_is_named(page: Any, lealta: Lealta) -> None:
    page.goto(lealta.url + "/contacts?points_min=lots")
    alert = page.get_by_role("alert").inner_text()
    assert "Points at least: 'lots' is not a whole number of points" in alert
