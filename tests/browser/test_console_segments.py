"""The Segments page in Chromium: segments with their rules, the R x F grid, the moves between
the last two RFM runs and the people behind each figure; on a laptop and on a phone.
Screenshots are kept in ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.automations.sweeps import segment_moves
from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.factories import contacts, scores

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
CHAMPIONS_RULE = "Bought recently (R 4\u20135), often (F 4\u20135) and spent the most (M 4\u20135)."

# segment -> (r, f, m, people), before and after; people named "<segment>-<n>"
BEFORE = {"Champions": 6, "Loyal": 5, "At Risk": 4, "Potential Loyalist": 5, "Lost": 3}
# (segment before, segment after, people): the moves of the second run
MOVES = [
    ("Champions", "Champions", 3),
    ("Champions", "At Risk", 2),
    ("Champions", "Can't Lose Them", 1),
    ("Loyal", "Champions", 2),
    ("Loyal", "Loyal", 3),
    ("At Risk", "Lost", 3),
    ("At Risk", None, 1),
    ("Potential Loyalist", "Loyal", 2),
    ("Potential Loyalist", "Potential Loyalist", 3),
    ("Lost", "Lost", 3),
    (None, "New Customers", 4),
]
SCORES = {
    "Champions": (5, 5, 5),
    "Loyal": (4, 4, 3),
    "At Risk": (2, 4, 3),
    "Can't Lose Them": (1, 5, 5),
    "Potential Loyalist": (4, 3, 2),
    "Lost": (1, 1, 1),
    "New Customers": (5, 1, 2),
}


@pytest.fixture(scope="module")
def shop(lealta: Lealta) -> dict[str, Any]:
    """A marketer and customers scored twice (31 days and 1 day ago), with their moves."""
    now = dt.datetime.now(dt.UTC)
    first, second = now - dt.timedelta(days=31), now - dt.timedelta(days=1)
    suffix = uuid.uuid4().hex[:6]
    email = f"segments-{suffix}@example.com"
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    names: dict[str, str] = {}
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        for number, (was, now_in, _people) in enumerate(
            (m for m in MOVES for _ in range(m[2])), start=1
        ):
            contact = contacts.person(
                session,
                first,
                email=f"p{number}-{suffix}@shop.example",
                attributes={"first_name": f"P{number}-{suffix}"},
            )
            names[contact.id] = f"P{number}-{suffix}"
            if was:
                before[contact.id] = was
            if now_in:
                after[contact.id] = now_in
                r, f, m = SCORES[now_in]
                scores.rfm(
                    session, contact.id, now_in, at=second, r=r, f=f, m=m,
                    recency_days=10 * (6 - r), computed_at=second,
                )  # fmt: skip
    with lealta.services.uow.transaction() as session:
        segment_moves(session, {}, before, now=first)
    with lealta.services.uow.transaction() as session:
        segment_moves(session, before, after, now=second)
    return {
        "email": email,
        "suffix": suffix,
        "before": before,
        "after": after,
        "names": names,
        # the two runs' days, asked for explicitly: other tests on this shared server score
        # too (today), which moves the page's default dates (checked in the integration tests)
        "query": f"?from={first.date().isoformat()}&to={second.date().isoformat()}",
    }


def _signed_in(context: Any, lealta: Lealta, shop: dict[str, Any]) -> Any:
    page = context.new_page()
    page.goto(lealta.url + "/segments")
    page.get_by_label("Email").fill(shop["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Segments", exact=True).wait_for()
    return page


@pytest.fixture
def page(browser: Any, lealta: Lealta, shop: dict[str, Any]) -> Iterator[Any]:
    """The Segments page, signed in, on a laptop; console errors must stay none."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    errors: list[str] = []
    opened = _signed_in(context, lealta, shop)
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(lealta.url + "/segments" + shop["query"])
    yield opened
    context.close()
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _mine(page: Any, suffix: str) -> list[str]:
    return [t for t in page.locator("tbody tr").all_inner_texts() if suffix in t]


@pytest.mark.browser
def test_the_page_shows_segments_rules_and_the_moves_between_the_two_runs(
    page: Any, shop: dict[str, Any]
) -> None:
    assert page.get_by_role("heading", name="Segments, largest first").is_visible()
    assert CHAMPIONS_RULE in page.inner_text("table.segments")
    caption = page.locator(".matrix-label").inner_text()
    first = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).date()
    assert f"from (segment on {first.day} {first:%b %Y})" in caption
    assert page.get_by_label("From", exact=True).input_value() == first.isoformat()
    _shot(page, "segments")


@pytest.mark.browser
def test_a_segment_opens_its_customers(page: Any, shop: dict[str, Any]) -> None:
    page.locator("table.segments").get_by_role("link", name="Champions", exact=True).click()
    page.wait_for_url("**/contacts?segment=Champions")
    champions = [c for c, s in shop["after"].items() if s == "Champions"]
    mine = _mine(page, shop["suffix"])
    assert sorted(mine) == sorted(t for t in mine if any(shop["names"][c] in t for c in champions))
    assert len(mine) == len(champions)


@pytest.mark.browser
def test_an_rf_cell_opens_the_right_customers(page: Any, shop: dict[str, Any]) -> None:
    page.locator("table.rf").get_by_role("link", name="R 5, F 1:").click()
    page.wait_for_url("**/contacts?r=5&f=1")
    new = [c for c, s in shop["after"].items() if s == "New Customers"]  # scored R 5, F 1
    assert sorted(_mine(page, shop["suffix"])) == sorted(
        t for t in _mine(page, shop["suffix"]) if any(shop["names"][c] in t for c in new)
    )
    assert len(_mine(page, shop["suffix"])) == len(new)


@pytest.mark.browser
def test_a_move_opens_the_people_who_made_it(page: Any, shop: dict[str, Any]) -> None:
    page.get_by_role("link", name="Champions to At Risk: 2 contacts").click()
    page.get_by_role("heading", name="Champions → At Risk").wait_for()
    movers = [
        c for c in shop["after"]
        if shop["before"].get(c) == "Champions" and shop["after"][c] == "At Risk"
    ]  # fmt: skip
    rows = _mine(page, shop["suffix"])
    assert len(rows) == len(movers) == 2
    assert all(any(shop["names"][c] in row for c in movers) for row in rows)
    _shot(page, "segments-moves")


@pytest.mark.browser
def test_the_page_fits_a_phone(browser: Any, lealta: Lealta, shop: dict[str, Any]) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = _signed_in(context, lealta, shop)
        page.goto(lealta.url + "/segments" + shop["query"])
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the phone"
        box = page.locator(".matrix-wrap")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # scrolls in its own box
        _shot(page, "segments-phone")
    finally:
        context.close()
