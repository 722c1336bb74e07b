"""The console in Chromium, as a marketer uses it: sign in, read the overview, follow a figure
to the people behind it, search, sign out; on a laptop and on a phone. Screenshots of every page
are kept in ``test-artifacts/console/`` for people to look at."""

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


@pytest.fixture(scope="module")
def people(lealta: Lealta) -> dict[str, str]:
    """A marketer, and three scored customers: two in the cell R5 F1, one in R1 F5."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"marketer-{suffix}@example.com"
    scored = {"fresh-a": (5, 1, "New Customers"), "fresh-b": (5, 1, "New Customers")}
    scored["old-loyal"] = (1, 5, "Can't Lose Them")
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        for name, (r, f, segment) in scored.items():
            contact = contacts.person(
                session, now, email=f"{name}-{suffix}@shop.example",
                attributes={"first_name": name.title()}, lifecycle_stage="Customer",
            )  # fmt: skip
            scores.rfm(session, contact.id, segment, at=now, r=r, f=f, m=3, monetary=10.0 * f)
    return {"email": email, "suffix": suffix}


@pytest.fixture
def page(context: Any, lealta: Lealta, people: dict[str, str]) -> Iterator[Any]:
    """A signed-in page; console errors are collected and must stay empty."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(lealta.url + "/")
    opened.get_by_label("Email").fill(people["email"])
    opened.get_by_label("Password").fill(PASSWORD)
    opened.get_by_role("button", name="Sign in").click()
    opened.get_by_role("heading", name="Overview").wait_for()
    yield opened
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_signed_out_visitor_is_asked_to_sign_in(context: Any, lealta: Lealta) -> None:
    page = context.new_page()
    page.goto(lealta.url + "/contacts")
    assert page.url.startswith(lealta.url + "/signin?next=")
    page.get_by_label("Email").wait_for()
    page.get_by_label("Password").wait_for()
    page.get_by_role("button", name="Sign in").wait_for()
    _shot(page, "signin")


@pytest.mark.browser
def test_a_wrong_password_says_so(context: Any, lealta: Lealta, people: dict[str, str]) -> None:
    page = context.new_page()
    page.goto(lealta.url + "/signin")
    page.get_by_label("Email").fill(people["email"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()


@pytest.mark.browser
def test_the_overview_shows_its_figures(page: Any) -> None:
    assert page.get_by_role("heading", name="Contacts by lifecycle stage").is_visible()
    assert page.get_by_role("heading", name="Customers by RFM segment").is_visible()
    assert page.get_by_role("link", name="New Customers").first.is_visible()
    _shot(page, "overview")


@pytest.mark.browser
def test_an_rf_cell_opens_the_customers_in_it(page: Any, people: dict[str, str]) -> None:
    page.get_by_role("link", name="R 5, F 1:").click()
    page.get_by_role("heading", name="Contacts").wait_for()
    rows = page.locator("tbody tr").all_inner_texts()
    suffix = people["suffix"]
    found = sorted(text for text in rows if suffix in text)
    assert len(found) == 2
    assert all("fresh-" in text for text in found)
    _shot(page, "contacts-rf-cell")


@pytest.mark.browser
def test_a_search_finds_a_contact(page: Any, people: dict[str, str]) -> None:
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Search by name, e-mail, phone or id").fill(f"old-loyal-{people['suffix']}")
    page.get_by_role("button", name="Show contacts").click()
    rows = page.locator("tbody tr").all_inner_texts()
    assert len(rows) == 1
    assert "Can't Lose Them" in rows[0]
    page.get_by_role("link", name="Old-Loyal", exact=True).click()
    page.get_by_role("heading", name="Old-Loyal").wait_for()
    assert page.get_by_role("heading", name="Timeline").is_visible()
    page.get_by_label("Add a tag").fill("called back")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("button", name="Remove tag called back").wait_for()
    timeline = page.locator("ol.timeline").inner_text()
    assert f"Tag Added “called back” by console:{people['email']}" in timeline
    _shot(page, "contact")


@pytest.mark.browser
def test_signing_out_ends_the_session(page: Any, lealta: Lealta) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Password").wait_for()
    page.goto(lealta.url + "/")
    assert "/signin" in page.url


@pytest.mark.browser
def test_pages_fit_a_phone(browser: Any, lealta: Lealta, people: dict[str, str]) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(lealta.url + "/signin")
        page.get_by_label("Email").fill(people["email"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview").wait_for()
        for name, path in (("overview-phone", "/"), ("contacts-phone", "/contacts")):
            page.goto(lealta.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than the phone"
            _shot(page, name)
    finally:
        context.close()


@pytest.mark.browser
def test_every_page_in_the_navigation_opens_without_errors(
    page: Any, lealta: Lealta, people: dict[str, str]
) -> None:
    links = page.locator("header nav a")
    targets = [
        href
        for href in (links.nth(i).get_attribute("href") for i in range(links.count()))
        if href and href.startswith("/")
    ]
    assert {"/", "/contacts", "/segments", "/journeys", "/messages", "/reports"} <= set(targets)
    for target in [*targets, "/reports/deliverability", "/jobs"]:
        answer = page.goto(lealta.url + target)
        assert answer is not None, target
        assert answer.status == 200, target
        if target == "/docs":  # the API docs: Swagger UI, from Lealta's own copy
            page.get_by_text("Lealta", exact=False).first.wait_for()
            page.locator(".opblock").first.wait_for()
            continue
        page.locator("main h1").first.wait_for()
    page.goto(lealta.url + f"/contacts?q={people['suffix']}")
    page.get_by_role("link", name="Fresh-A", exact=True).click()
    page.get_by_role("heading", name="Fresh-A").wait_for()
    # the page fixture asserts, when the test ends, that no page logged an error (a request
    # to another host, which this machine cannot resolve, would be one)


@pytest.mark.browser
def test_a_viewer_reads_a_contact_but_is_offered_no_change(
    context: Any, lealta: Lealta, people: dict[str, str]
) -> None:
    email = f"viewer-{people['suffix']}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(
            session, email=email, role="viewer", password=PASSWORD, now=dt.datetime.now(dt.UTC)
        )
    page = context.new_page()
    page.goto(lealta.url + f"/contacts?q={people['suffix']}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Fresh-A", exact=True).click()
    page.get_by_role("heading", name="Fresh-A").wait_for()
    assert page.get_by_label("Add a tag").count() == 0
    assert page.get_by_role("button", name="Erase").count() == 0
    assert page.locator("header nav a", has_text="Settings").count() == 0
    _shot(page, "contact-viewer")
