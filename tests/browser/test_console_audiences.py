"""The Audiences pages in Chromium: a marketer builds an audience through the form (groups,
rules, a rule refused on its own fields, an empty field named in words only once left), sees
the count and the funnel follow the rules, saves it, finds it listed with its size, and asks
why a person is out; the contact's page links to the audience; on a laptop and on a phone.
Screenshots are kept in ``test-artifacts/console/``.

The server is shared with the other browser tests, so the people here carry a tag and a city
of their own and every figure counts only them."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.audiences import service
from lealta.audiences.membership import refresh
from lealta.identity.service import find_contact
from lealta.users.service import create_user
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def people(lealta: Lealta) -> dict[str, Any]:
    """A marketer; three people, two with this module's tag, one of those in its city."""
    suffix = uuid.uuid4().hex[:6]
    marketer = f"audiences-{suffix}@example.com"
    now = dt.datetime.now(dt.UTC)
    with lealta.services.uow.transaction() as session:
        create_user(session, email=marketer, role="marketer", password=PASSWORD, now=now)
    city = f"Madrid-{suffix}"
    traits = {"ana": city, "ben": "Lyon", "cy": city}
    batch = [
        {"type": "identify", "userId": f"{who}-{suffix}",
         "traits": {"email": f"{who}-{suffix}@example.com", "city": town}}
        for who, town in traits.items()
    ]  # fmt: skip
    status, text = lealta.call("POST", "/v1/batch", body={"batch": batch}, headers=lealta.admin)
    assert status == 200, text
    ids = {}
    for who in traits:
        ids[who] = _contact_id(lealta, f"{who}-{suffix}@example.com")
    for who in ("ana", "ben"):
        status, text = lealta.call(
            "PUT", f"/v1/contacts/{ids[who]}/tags/vip-{suffix}", headers=lealta.admin
        )
        assert status == 200, text
    return {"marketer": marketer, "suffix": suffix, "city": city, "ids": ids}


def _contact_id(lealta: Lealta, email: str) -> str:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lealta.services.uow.transaction() as session:
            found = find_contact(session, "email", email)
            if found is not None:
                return found.id
        time.sleep(0.05)
    raise AssertionError(f"{email} was never applied")


@pytest.fixture
def opened(browser: Any) -> Iterator[list[Any]]:
    """Pages opened by a test; closed after it, and none may log a console error but the
    refused save's 422."""
    pages: list[Any] = []
    yield pages
    for page in pages:
        page.context.close()
    errors = [e for page in pages for e in page.errors if "status of 422" not in e]
    assert errors == []


def _open(opened: list[Any], browser: Any, lealta: Lealta, email: str, path: str,
          viewport: Any = DESKTOP) -> Any:  # fmt: skip
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(lealta.url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lealta.url + path)
    page.errors = errors
    opened.append(page)
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret injects a style the console's CSP refuses
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, caret="initial")


def _settled(page: Any, exact: str) -> None:
    """Wait until the builder's exact count reads ``exact``."""
    page.wait_for_function(
        "n => (document.getElementById('exact-count') || {}).textContent === n", arg=exact
    )


_FILL_ON_ARRIVAL = """values => new MutationObserver((_, observer) => {
  const kind = document.getElementById('f-c--1--kind');
  const gte = document.getElementById('f-c--1--gte');
  const lte = document.getElementById('f-c--1--lte');
  // the score's own fields, as the server sent them: not the new rule's first kind's (an
  // event count has a gte and lte too), which a late swap elsewhere could show the observer
  const chosen = kind && kind.selectedIndex >= 0 && kind.options[kind.selectedIndex];
  if (!gte || !lte || !chosen || chosen.value !== 'score' || !chosen.defaultSelected) return;
  observer.disconnect();
  gte.value = values.gte;
  lte.value = values.lte;
  lte.dispatchEvent(new Event('change', {bubbles: true}));
}).observe(document.body, {childList: true, subtree: true})"""


@pytest.mark.browser
def test_a_marketer_builds_counts_saves_and_explains_an_audience(
    browser: Any, lealta: Lealta, people: dict[str, Any], opened: list[Any]
) -> None:
    suffix, city = people["suffix"], people["city"]
    page = _open(opened, browser, lealta, people["marketer"], "/audiences/new")
    page.select_option("#f-c--kind", "all")
    page.wait_for_selector("#f-c--0--kind")
    page.select_option("#f-c--0--kind", "tag")
    page.fill("#f-c--0--tag", f"vip-{suffix}")
    page.locator("#f-c--0--tag").dispatch_event("change")
    _settled(page, "2")
    page.get_by_role("button", name="Add a rule here").click()
    page.wait_for_selector("#f-c--1--kind")
    # The fastest possible typist: the score's fields are filled and changed in the very
    # moment the server's fields appear. A builder that listens to a swapped form only after
    # htmx's settle delay (20 ms by default) loses this change and never shows the problem.
    page.evaluate(_FILL_ON_ARRIVAL, {"gte": "9", "lte": "2"})
    page.select_option("#f-c--1--kind", "score")
    rule = page.locator("#rule-f-c--1--")
    rule.locator(".problems").wait_for()
    assert "“At least” 9 is above “At most” 2" in rule.inner_text()
    assert (
        page.locator("#preview")
        .inner_text()
        .strip()
        .endswith("Fix the rules marked in red to count.")
    )
    _shot(page, "audience-builder-problem")
    page.select_option("#f-c--1--kind", "attribute")
    page.wait_for_selector("#f-c--1--name")
    page.fill("#f-c--1--name", "city")
    page.fill("#f-c--1--value", city)
    page.locator("#f-c--1--value").dispatch_event("change")
    _settled(page, "1")
    funnel = page.locator("ol.funnel li")
    assert funnel.count() == 2
    assert re.search(r"has the tag 'vip-\w+'\s+2", funnel.nth(0).inner_text())
    assert "city equals" in funnel.nth(1).inner_text()
    assert re.search(r"\b1\b", funnel.nth(1).inner_text())
    assert page.locator("#rule-f-c--1-- .rule-words").inner_text() == f"city equals '{city}'"
    _shot(page, "audience-builder-desktop")
    page.fill("#f-name", f"Local VIPs {suffix}")
    page.get_by_role("button", name="Save the audience").click()
    page.wait_for_url(re.compile(r".*/audiences/\d+\?saved=1$"))
    audience_id = int(page.url.split("/audiences/")[1].split("?")[0])
    assert "Saved as version 1" in page.locator("main").inner_text()
    with lealta.services.uow.transaction() as session:
        refresh(session, service.get(session, audience_id), now=dt.datetime.now(dt.UTC))

    page.goto(lealta.url + "/audiences")
    row = page.locator("tr", has_text=f"Local VIPs {suffix}")
    assert row.locator("td.size").inner_text().strip() == "1"
    _shot(page, "audiences-list-desktop")

    page.goto(lealta.url + f"/audiences/{audience_id}")
    page.fill("#f-who", f"ben-{suffix}@example.com")
    page.get_by_role("button", name="Explain").click()
    verdict = page.locator(".verdict")
    assert "is out now" in verdict.inner_text()
    lines = page.locator("ul.explained li")
    assert "holds" in (lines.nth(1).get_attribute("class") or "")  # the tag
    assert "fails" in (lines.nth(2).get_attribute("class") or "")  # the city
    assert page.locator("ul.sample a", has_text=f"ana-{suffix}@example.com").count() == 1
    _shot(page, "audience-page-desktop")

    page.goto(lealta.url + f"/contacts/{people['ids']['ana']}")
    link = page.get_by_role("link", name=f"Local VIPs {suffix}")
    assert link.get_attribute("href") == f"/audiences/{audience_id}?who={people['ids']['ana']}#why"


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_empty_field_is_named_in_words_once_left_and_cleared_once_filled(
    browser: Any, lealta: Lealta, people: dict[str, Any], opened: list[Any], viewport: Any
) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    page = _open(opened, browser, lealta, people["marketer"], "/audiences/new", viewport)
    page.select_option("#f-c--kind", "tag")
    tag = page.locator("#f-c--tag")
    tag.wait_for()  # the swap that brings the field would bring its problem: none yet
    assert page.locator("#f-c--tag-problem, .summary, .problems").count() == 0
    assert tag.get_attribute("aria-invalid") is None
    assert "Complete the rules to count." in page.locator("#preview").inner_text()
    _shot(page, f"audience-empty-rule-{size}")
    tag.focus()
    page.locator("#f-name").focus()  # leaves the tag empty
    problem = page.locator("#f-c--tag-problem")
    problem.wait_for()
    assert problem.inner_text() == "Fill in the tag"
    assert page.locator("#f-c--tag").get_attribute("aria-invalid") == "true"
    assert "The rules: Fill in the tag" in page.locator(".summary").inner_text()
    assert "should have" not in page.locator("main").inner_text()
    _shot(page, f"audience-empty-rule-left-{size}")
    page.fill("#f-c--tag", f"vip-{people['suffix']}")
    page.locator("#f-name").focus()
    problem.wait_for(state="detached")
    _settled(page, "2")
    assert page.locator(".summary").count() == 0


@pytest.mark.browser
def test_the_pages_fit_a_phone(
    browser: Any, lealta: Lealta, people: dict[str, Any], opened: list[Any]
) -> None:
    now = dt.datetime.now(dt.UTC)
    definition = {
        "name": f"Phone VIPs {people['suffix']}",
        "condition": {"kind": "tag", "tag": f"vip-{people['suffix']}"},
    }
    with lealta.services.uow.transaction() as session:
        saved = service.save(session, definition, now=now)
        refresh(session, saved.audience, now=now)
        audience_id = saved.audience.id
    page = _open(opened, browser, lealta, people["marketer"], "/audiences/new", PHONE)
    page.locator("#exact-count").wait_for()
    for path, name in (
        ("/audiences/new", "audience-builder-phone"),
        ("/audiences", "audiences-list-phone"),
        (f"/audiences/{audience_id}?who=ana-{people['suffix']}@example.com", "audience-page-phone"),
    ):
        page.goto(lealta.url + path)
        page.wait_for_load_state("networkidle")
        _shot(page, name)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"] + 1, f"{path} is {wide}px wide on a {PHONE['width']}px phone"
