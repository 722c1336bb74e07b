"""The contact list and the settings in Chromium: filter by segment and score, remove a chip,
go to the next page, cards on a phone; an admin adds a console user. Screenshots are kept in
``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.factories import contacts, scores

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
FIRST = ["Marta", "José", "Lucía", "Pablo", "Elena"]
LAST = ["García", "López", "Martín", "Sánchez"]


@pytest.fixture(scope="module")
def shop(lealta: Lealta) -> dict[str, str]:
    """An admin, and 60 customers (scores 0 to 59, odd ones in "Champions"), one surname."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    surname = f"Ruiz{suffix}"
    admin = f"admin-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=admin, role="admin", password=PASSWORD, now=now)
        for n in range(60):
            first = FIRST[n % len(FIRST)]
            contact = contacts.person(
                session,
                now - dt.timedelta(minutes=60 - n),
                email=f"{first.lower()}.{n}-{suffix}@shop.example",
                attributes={"first_name": first, "last_name": f"{LAST[n % 4]} {surname}"},
                lifecycle_stage="Customer" if n % 3 else "Lead",
                score=float(n),
                last_seen_at=now - dt.timedelta(days=n),
            )
            scores.rfm(
                session, contact.id, "Champions" if n % 2 else "Need Attention", at=now,
                r=4, f=2, m=3, recency_days=n, monetary=40.0,
                cluster=n % 3, cluster_name=["steady regulars", "big spenders", "new"][n % 3],
            )  # fmt: skip
    return {"admin": admin, "surname": surname}


def _sign_in(page: Any, lealta: Lealta, email: str) -> None:
    page.goto(lealta.url + "/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()


@pytest.fixture
def page(browser: Any, lealta: Lealta, shop: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(opened, lealta, shop["admin"])
    yield opened
    context.close()
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_filter_by_segment_and_score_with_chips_and_pages(
    page: Any, lealta: Lealta, shop: dict[str, str]
) -> None:
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Search by name, e-mail, phone or id").fill(shop["surname"].upper())
    page.get_by_role("button", name="Show contacts").click()
    assert page.locator(".matching strong").inner_text() == "60 contacts"
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("RFM segment").select_option("Champions")
    page.get_by_label("Score at least").fill("10")
    page.get_by_label("Score at most").fill("40")
    page.get_by_role("button", name="Show contacts").click()
    assert page.locator(".matching strong").inner_text() == "15 contacts"  # odd 11..39
    chips = page.locator("ul.chips li").all_inner_texts()
    assert any("RFM segment: Champions" in c for c in chips)
    _shot(page, "contacts-filtered")
    page.get_by_role("link", name="Remove filter Score at most: 40").click()
    assert page.locator(".matching strong").inner_text() == "25 contacts"  # odd 11..59
    page.get_by_role("link", name="Remove filter Score at least: 10").click()
    page.get_by_role("link", name="Remove filter RFM segment: Champions").click()
    assert page.locator(".matching strong").inner_text() == "60 contacts"
    first = page.locator("tbody tr").count()
    page.get_by_role("link", name="Next page →").click()
    assert (first, page.locator("tbody tr").count()) == (50, 10)
    page.get_by_role("link", name="← First page").wait_for()


@pytest.mark.browser
def test_a_bad_score_is_named(page: Any, lealta: Lealta) -> None:
    page.goto(lealta.url + "/contacts?score_min=lots")
    assert "Score at least: 'lots' is not a number" in page.get_by_role("alert").inner_text()


@pytest.mark.browser
def test_a_phone_shows_cards(browser: Any, lealta: Lealta, shop: dict[str, str]) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        _sign_in(page, lealta, shop["admin"])
        page.goto(f"{lealta.url}/contacts?q={shop['surname']}&segment=Champions")
        card = page.locator("tbody tr").first
        box = card.bounding_box()
        assert box["width"] > 300  # one card across the phone, not a squeezed row
        assert "Champions" in card.inner_text()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        _shot(page, "contacts-phone-full")
        page.locator("ul.chips").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "contacts-cards-phone.png"))  # what the phone shows
        page.goto(lealta.url + "/settings")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        _shot(page, "settings-phone")
    finally:
        context.close()


@pytest.mark.browser
def test_an_admin_adds_a_console_user(page: Any, lealta: Lealta, shop: dict[str, str]) -> None:
    page.get_by_role("link", name="Settings").click()
    new = f"new-{shop['surname'].lower()}@example.com"
    page.get_by_label("E-mail").fill(new)
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add user").click()
    page.get_by_text(f"{new} can now sign in as a viewer").wait_for()
    password = page.locator("code.key").inner_text()
    assert len(password) >= 16
    _shot(page, "settings-user-added")
    page.get_by_role("link", name="audit log", exact=True).click()
    assert f"user {new}" in page.locator("table.audit").inner_text()
    _shot(page, "audit")
