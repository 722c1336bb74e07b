"""The Loyalty pages in Chromium: the empty state, the programme with members per tier linked to
the people, the migration matrix between two reviews, the editor's preview, save and refused
edit, a viewer refused, the admin's "Review tiers now", and the loyalty card on a contact's
page; on a laptop and on a phone. Screenshots are kept in ``test-artifacts/console/``.

The server is shared with the other browser tests, so every review judges their customers
too: figures are checked against the store's own reports, and people by name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from lealta.clock import FrozenClock
from lealta.contacts.tables import Contact
from lealta.identity.service import find_contact
from lealta.jobs import service as jobs
from lealta.loyalty import reports, service
from lealta.loyalty.preview import preview
from lealta.loyalty.program import load_program
from lealta.loyalty.tables import ContactTier, LoyaltyProgramVersion, TierChange, TierOverride
from lealta.orders.tables import Order
from lealta.users.service import create_user, list_audit
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PROGRAM = """\
name: Test club
window_days: 365
tiers:
  - name: Member
    benefits: [{type: free_shipping, code: SHIP50, min_order: 50}]
  - name: Silver
    qualify: {orders: 2}
    benefits: [{type: percent_discount, code: SILVER5, percent: 5}]
  - name: Gold
    qualify: {orders: 4}
    benefits: [{type: percent_discount, code: GOLD10, percent: 10}]
status: {grace_days: 0, max_steps_down: 1}
"""
# person -> days ago of their orders: reviews run 20 days ago and 5 days ago
ORDERS = {
    "gold": [200, 150, 100, 50],  # Gold at both reviews
    "climber": [90, 60, 15, 10],  # Silver at the first review, Gold at the second
    "member": [30],  # Member at both (one order short of Silver)
    "newcomer": [8],  # no tier at the first review, Member at the second
}
FIRST, SECOND = 20, 5


def _post_orders(lealta: Lealta, suffix: str, now: dt.datetime) -> dict[str, str]:
    with lealta.services.uow.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Order)) or 0
    orders = [
        {
            "user_id": f"{who}-{suffix}",
            "id": f"loyalty-{who}-{suffix}-{n}",
            "placed_at": (now - dt.timedelta(days=days)).isoformat(),
            "amount": "60.00",
            "email": f"{who}-{suffix}@shop.example",
        }
        for who, ago in ORDERS.items()
        for n, days in enumerate(ago)
    ]
    status, text = lealta.call(
        "POST", "/v1/orders/batch", body={"orders": orders}, headers=lealta.admin
    )
    assert status == 202, text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the server's processor stores them
        with lealta.services.uow.transaction() as session:
            if session.scalar(select(func.count()).select_from(Order)) == before + len(orders):
                found = {who: find_contact(session, "user_id", f"{who}-{suffix}") for who in ORDERS}
                return {who: c.id for who, c in found.items() if c is not None}
        time.sleep(0.1)
    raise AssertionError("the orders were not stored")


def _review(lealta: Lealta, days_ago: int, now: dt.datetime) -> None:
    moment = now - dt.timedelta(days=days_ago)
    services = dataclasses.replace(lealta.services, clock=FrozenClock(moment))
    service.apply_program(services, as_of=moment.date())


@pytest.fixture(scope="module")
def shop(lealta: Lealta) -> dict[str, Any]:
    """A marketer, a viewer and an admin; four customers with orders (before the programme);
    then the programme, reviewed 20 days ago and 5 days ago."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    users = {
        role: f"loyalty-{role}-{suffix}@example.com" for role in ("marketer", "viewer", "admin")
    }
    with lealta.services.uow.transaction() as session:
        for role, email in users.items():
            create_user(session, email=email, role=role, password=PASSWORD, now=now)
        had_programme = service.get(session) is not None
    ids = _post_orders(lealta, suffix, now)
    return {"users": users, "suffix": suffix, "ids": ids, "now": now, "empty": not had_programme}


@pytest.fixture(scope="module")
def reviewed(lealta: Lealta, shop: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The programme saved, and tiers reviewed twice; afterwards the shared server has no
    programme again (the other modules' RFM runs would review tiers otherwise)."""
    with lealta.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=shop["now"] - dt.timedelta(days=30))
    _review(lealta, FIRST, shop["now"])
    _review(lealta, SECOND, shop["now"])
    first = (shop["now"] - dt.timedelta(days=FIRST)).date()
    second = (shop["now"] - dt.timedelta(days=SECOND)).date()
    yield {**shop, "first": first, "second": second}
    with lealta.services.uow.transaction() as session:
        for table in (TierChange, ContactTier, LoyaltyProgramVersion):
            session.execute(delete(table))


def _signed_in(browser: Any, lealta: Lealta, email: str, path: str, viewport: Any) -> Any:
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
    return page


@pytest.fixture
def opened(browser: Any, lealta: Lealta) -> Iterator[list[Any]]:
    """Pages opened by a test; closed after it, and none may log a console error."""
    pages: list[Any] = []
    yield pages
    for page in pages:
        page.context.close()
    # the page of a refused edit (422) or decision (400) says why
    refused = ("the server responded with a status of 422", "a status of 400 (Bad Request)")
    assert [e for page in pages for e in page.errors if not any(r in e for r in refused)] == []


def _open(opened: list[Any], browser: Any, lealta: Lealta, email: str, path: str, *,
          viewport: Any = DESKTOP) -> Any:  # fmt: skip
    page = _signed_in(browser, lealta, email, path, viewport)
    opened.append(page)
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_with_no_programme_the_page_offers_the_example(
    browser: Any, lealta: Lealta, shop: dict[str, Any], opened: list[Any]
) -> None:
    assert shop["empty"], "another test saved a loyalty programme before this module"
    page = _open(opened, browser, lealta, shop["users"]["marketer"], "/loyalty")
    assert page.get_by_role("heading", name="No loyalty programme yet").is_visible()
    page.get_by_role("link", name="Start from the example programme").click()
    page.wait_for_url("**/loyalty/program?example=genius")
    text = page.get_by_label("Programme (YAML)").input_value()
    assert "name: Genius" in text
    assert "GENIUS10" in text
    assert page.get_by_role("button", name="Save as version 1").is_visible()


@pytest.mark.browser
def test_members_per_tier_link_to_the_people(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    page = _open(opened, browser, lealta, reviewed["users"]["viewer"], "/loyalty")
    assert page.get_by_role("heading", name="Loyalty: Test club").is_visible()
    with lealta.services.uow.transaction() as session:
        members = reports.members(session)
    cards = page.locator(".cards .tier-card")
    assert cards.all_inner_texts()[0].startswith(f"Gold\n{members['Gold']:,}")
    tiers = page.locator("table.tiers")
    assert "at least 4 orders in 365 days" in tiers.inner_text()
    assert "10 % off every order GOLD10" in tiers.inner_text()
    assert page.get_by_role("button", name="Review tiers now").count() == 0  # viewers
    tiers.get_by_role("link", name=f"Gold: {members['Gold']:,} members").click()
    page.wait_for_url("**/contacts?tier=Gold")  # the contacts list, filtered by tier
    assert page.get_by_label("Loyalty tier", exact=True).input_value() == "Gold"
    listed = page.locator("main").inner_text()
    suffix = reviewed["suffix"]
    assert f"gold-{suffix}@shop.example" in listed
    assert f"climber-{suffix}@shop.example" in listed
    assert f"member-{suffix}@shop.example" not in listed


@pytest.mark.browser
def test_the_matrix_counts_the_moves_between_two_reviews(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    first, second = reviewed["first"], reviewed["second"]
    query = f"/loyalty?was_on={first.isoformat()}&now_on={second.isoformat()}"
    page = _open(opened, browser, lealta, reviewed["users"]["viewer"], query)
    with lealta.services.uow.transaction() as session:
        moves = reports.migrations(session, first, second)
    up = moves.count("Silver", "Gold")
    assert up >= 1
    matrix = page.locator("table.matrix")
    assert matrix.get_by_label(f"Silver to Gold: {up:,} people").inner_text() == f"{up:,}"
    joined = moves.count(None, "Member")
    assert matrix.get_by_label(f"No tier to Member: {joined:,} people").inner_text() == str(joined)
    _shot(page, "loyalty")
    matrix.get_by_label(f"Silver to Gold: {up:,} people").click()
    page.get_by_role("heading", name="Silver → Gold").wait_for()
    names = page.locator("tbody th").all_inner_texts()
    assert f"climber-{reviewed['suffix']}@shop.example" in names
    assert len(names) == min(up, 50)


@pytest.mark.browser
def test_the_editor_previews_refuses_a_bad_edit_and_saves(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    with lealta.services.uow.transaction() as session:
        version = service.require(session).version
    page = _open(opened, browser, lealta, reviewed["users"]["marketer"], "/loyalty/program")
    box = page.get_by_label("Programme (YAML)")
    text = box.input_value()
    assert "name: Test club" in text
    looser = text.replace("orders: 4", "orders: 1")  # Gold for every customer
    box.fill(looser)
    page.get_by_role("button", name="Preview tiers").click()
    panel = page.locator("#preview")
    panel.wait_for()
    expected = {t.tier: t for t in preview(lealta.services, load_program(looser)).tiers}
    rows = panel.locator("tbody tr").all_inner_texts()
    gold = next(r for r in rows if r.startswith("Gold"))
    assert re.split(r"\s+", gold)[1:3] == [
        f"{expected['Gold'].now:,}",
        f"{expected['Gold'].preview:,}",
    ]
    assert expected["Gold"].preview > expected["Gold"].now
    assert page.get_by_label("Programme (YAML)").input_value() == looser  # kept for saving
    with lealta.services.uow.transaction() as session:
        assert service.require(session).version == version  # nothing saved
    _shot(page, "loyalty-program-preview")

    bad = looser.replace("orders: 2\n", "score_sum: 40\n", 1)  # Silver's rule
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "score_sum: 40" in text)
    page.get_by_label("Programme (YAML)").fill(bad)
    page.get_by_role("button", name=f"Save as version {version + 1}").click()
    summary = page.locator(".summary")
    summary.wait_for()
    assert "Not saved: 1 thing to fix" in summary.inner_text()
    assert "tiers[Silver].qualify.score_sum" in summary.inner_text()
    assert f"Line {line}" in summary.inner_text()
    assert "40 is outside 3..15" in summary.inner_text()
    with lealta.services.uow.transaction() as session:
        assert service.require(session).version == version
    _shot(page, "loyalty-program-error")

    page.get_by_label("Programme (YAML)").fill(looser)
    page.get_by_role("button", name=f"Save as version {version + 1}").click()
    page.get_by_text(f"Saved as version {version + 1}.").wait_for()
    with lealta.services.uow.transaction() as session:
        saved = service.require(session)
    assert saved.version == version + 1
    assert saved.program.tier("Gold").qualify == load_program(looser).tier("Gold").qualify
    versions = page.locator(".versions-list > li").first.inner_text()
    changed = "Tier Gold: rule changed from “at least 4 orders in 365 days” to “at least 1 order"
    assert changed in versions
    # back to the reviewed rules for the other tests
    with lealta.services.uow.transaction() as session:
        service.save(session, PROGRAM, now=dt.datetime.now(dt.UTC))


@pytest.mark.browser
def test_a_viewer_can_read_the_programme_but_not_change_it(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    page = _open(opened, browser, lealta, reviewed["users"]["viewer"], "/loyalty/program")
    box = page.get_by_label("Programme (YAML)")
    assert box.get_attribute("readonly") is not None
    assert page.get_by_role("button", name=re.compile("Save as version")).count() == 0
    assert "only marketers and admins can change the programme" in page.inner_text("main")
    csrf = page.evaluate("document.querySelector('input[name=csrf]').value")  # the sign-out form
    with lealta.services.uow.transaction() as session:
        version = service.require(session).version
    answer = page.request.post(
        lealta.url + "/loyalty/program",
        form={"csrf": csrf, "yaml": PROGRAM.replace("Test club", "Hacked"), "op": "save"},
    )
    assert answer.status == 403
    assert "a viewer cannot do this" in answer.text()
    refused = page.request.post(lealta.url + "/loyalty/review", form={"csrf": csrf})
    assert refused.status == 403
    with lealta.services.uow.transaction() as session:
        assert service.require(session).version == version


@pytest.mark.browser
def test_an_admin_reviews_the_tiers_now(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    page = _open(opened, browser, lealta, reviewed["users"]["admin"], "/loyalty")
    started = time.monotonic()
    page.get_by_role("button", name="Review tiers now").click()
    page.wait_for_url("**/loyalty#review")
    assert time.monotonic() - started < 5  # the request only queues the job
    done = page.locator("#review .job-done")  # the server's worker runs it; the page reloads
    done.wait_for(timeout=60_000)
    with lealta.services.uow.transaction() as session:
        members = sum(reports.members(session).values())
        job = jobs.latest(session, "loyalty_tiers")
    assert job is not None
    assert job.status == "done"
    assert job.requested_by == reviewed["users"]["admin"]
    assert f"{members:,} customers are in a tier now" in done.inner_text()
    _shot(page, "loyalty-review-done")


@pytest.mark.browser
def test_the_contact_page_shows_the_loyalty_card(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    member = reviewed["ids"]["member"]
    page = _open(opened, browser, lealta, reviewed["users"]["viewer"], f"/contacts/{member}")
    card = page.locator("#loyalty")
    assert card.locator(".tier-name").inner_text() == "Member"
    assert "Free shipping on orders of €50 or more SHIP50" in card.inner_text()
    card.get_by_text("1 more order to Silver").wait_for()  # loaded after the page
    history = card.locator("ul.moves li").all_inner_texts()
    first = reviewed["first"]
    assert history == [f"Joined Member on {first.day} {first:%b %Y}"]
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "loyalty-card.png"))

    climber = reviewed["ids"]["climber"]
    page.goto(lealta.url + f"/contacts/{climber}")
    card = page.locator("#loyalty")
    assert card.locator(".tier-name").inner_text() == "Gold"
    assert "10 % off every order GOLD10" in card.inner_text()
    assert "Next tier" not in card.inner_text()  # the top tier
    moves = card.locator("ul.moves li").all_inner_texts()
    assert [m.split(" on ")[0] for m in moves] == ["Moved up from Silver to Gold", "Joined Silver"]

    with lealta.services.uow.transaction() as session:
        lead = Contact(attributes={"first_name": f"Lead-{reviewed['suffix']}"})
        session.add(lead)
        session.flush()
        lead_id = lead.id
    page.goto(lealta.url + f"/contacts/{lead_id}")
    card = page.locator("#loyalty")
    assert card.locator(".tier-name").inner_text() == "In no tier"
    card.get_by_text("No order yet: a first order makes them a customer").wait_for()
    assert "No tier change recorded." in card.inner_text()


POINTS = """\
points:
  per_unit: 1
  expire_after_days: 20
  warn_days: 30
  point_value: 0.01
"""


def _adjust(lealta: Lealta, contact_id: str, points: int, reason: str) -> None:
    status, text = lealta.call(
        "POST",
        f"/v1/contacts/{contact_id}/loyalty/points/adjust",
        body={"points": points, "reason": reason},
        headers=lealta.admin,
    )
    assert status == 200, text


@pytest.mark.browser
def test_points_decisions_and_a_falling_tier_on_the_card(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    """Gold now needs 5 orders with 30 days of grace: a real review leaves the climber (4
    orders) in Gold, falling; the programme has points, adjusted over REST; an admin puts the
    member in Gold by decision, is refused a past day, then removes the decision."""
    stricter = PROGRAM.replace("orders: 4", "orders: 5").replace("grace_days: 0", "grace_days: 30")
    now = dt.datetime.now(dt.UTC)
    with lealta.services.uow.transaction() as session:
        service.save(session, stricter + POINTS, now=now)
    try:
        service.apply_program(lealta.services)
        member, climber = reviewed["ids"]["member"], reviewed["ids"]["climber"]
        _adjust(lealta, member, 300, "Welcome gift")
        _adjust(lealta, member, -50, "Correction")
        admin = reviewed["users"]["admin"]

        page = _open(opened, browser, lealta, admin, f"/contacts/{climber}")
        card = page.locator("#loyalty")
        assert card.locator(".tier-name").inner_text() == "Gold"
        risk = card.locator(".at-risk")
        risk.wait_for()  # loaded after the page
        drop = (now + dt.timedelta(days=30)).date()
        assert f"drops to Silver on {drop.day} {drop:%b %Y}" in risk.inner_text()
        with lealta.services.uow.transaction() as session:
            keep = service.card(session, climber, now=now).keep
        assert keep is not None
        assert keep["words"] in risk.inner_text()
        assert "1 more order" in keep["words"]
        _shot(page, "loyalty-card-at-risk")

        page.goto(lealta.url + f"/contacts/{member}")
        card = page.locator("#loyalty")
        points = card.locator(".points-balance").inner_text()
        assert points.startswith("250 points")
        assert "2.50 EUR" in points
        expires = (now + dt.timedelta(days=20)).date()
        assert f"Expiring soon: 250 on {expires.day} {expires:%b %Y}" in card.inner_text()
        ledger_rows = card.locator("table.ledger tbody tr").all_inner_texts()
        assert [re.split(r"\s+", r)[-2:] for r in ledger_rows] == [["-50", "250"], ["+300", "300"]]
        assert "Correction" in ledger_rows[0]

        form = card.locator(".decision-form")
        form.get_by_label("Tier").select_option("Gold")
        form.get_by_label("Reason").fill("Press partner")
        form.get_by_label("Until").fill((now - dt.timedelta(days=3)).date().isoformat())
        form.get_by_role("button", name="Put in this tier").click()
        refused = page.locator("#loyalty .error")
        refused.wait_for()
        assert "is in the past" in refused.inner_text()
        assert page.get_by_label("Reason").input_value() == "Press partner"  # kept as typed
        until = (now + dt.timedelta(days=60)).date()
        page.get_by_label("Until").fill(until.isoformat())
        page.get_by_role("button", name="Put in this tier").click()
        page.wait_for_url(f"**/contacts/{member}#loyalty")
        card = page.locator("#loyalty")
        assert card.locator(".tier-name").inner_text() == "Gold by decision"
        decided = card.locator(".decision").inner_text()
        assert f"In Gold by decision: “Press partner”, until {until.day} {until:%b %Y}" in decided
        assert admin in decided
        card.scroll_into_view_if_needed()
        card.screenshot(path=str(SHOTS / "loyalty-card-decision.png"))
        with lealta.services.uow.transaction() as session:
            held = session.get(ContactTier, member)
            assert held is not None
            assert held.tier == "Gold"

        viewer = _open(opened, browser, lealta, reviewed["users"]["viewer"], f"/contacts/{member}")
        assert viewer.locator("#loyalty .decision").is_visible()
        assert viewer.locator(".decision-form").count() == 0
        csrf = viewer.evaluate("document.querySelector('input[name=csrf]').value")
        answer = viewer.request.post(
            lealta.url + f"/contacts/{member}/loyalty/override", form={"csrf": csrf, "op": "remove"}
        )
        assert answer.status == 403

        page.get_by_role("button", name="Remove the decision").click()
        page.wait_for_url(f"**/contacts/{member}#loyalty")
        assert page.locator("#loyalty .decision").count() == 0
        assert page.locator("#loyalty .tier-name").inner_text() == "Gold"  # kept until today
        with lealta.services.uow.transaction() as session:
            assert session.get(TierOverride, member) is None
            done = [(e.action, e.user_email) for e in list_audit(session)[:5]]
        assert ("loyalty decision removed", admin) in done
        assert ("loyalty tier decided", admin) in done

        page.goto(lealta.url + "/loyalty")
        liability = page.locator("#points")
        with lealta.services.uow.transaction() as session:
            from lealta.loyalty.ledger import liability as owed

            expected = owed(session, service.require(session).program, today=now.date())
        assert expected.points >= 250
        text = liability.inner_text()
        assert f"Points outstanding\n{expected.points:,}" in text
        assert f"{expected.value:,.2f}" in text
        _shot(page, "loyalty-liability")
    finally:
        with lealta.services.uow.transaction() as session:
            service.save(session, PROGRAM, now=dt.datetime.now(dt.UTC))
        service.apply_program(lealta.services)


@pytest.mark.browser
def test_the_pages_fit_a_phone(
    browser: Any, lealta: Lealta, reviewed: dict[str, Any], opened: list[Any]
) -> None:
    for path, name, role in (
        ("/loyalty", "loyalty-phone", "marketer"),
        ("/loyalty/program", "loyalty-program-phone", "marketer"),
        (f"/contacts/{reviewed['ids']['climber']}", "loyalty-card-phone", "marketer"),
        (f"/contacts/{reviewed['ids']['member']}", "loyalty-card-admin-phone", "admin"),
    ):
        page = _open(opened, browser, lealta, reviewed["users"][role], path, viewport=PHONE)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than the phone"
        _shot(page, name)
