"""The programme editor with a ``points`` rule, in Chromium: the rule is described beside the
editor, the preview counts it and says who earned points, a points rule without a ledger is
refused at its line. Nothing is saved (the shared server keeps no programme)."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.identity.service import find_contact
from lealta.loyalty import ledger, service
from lealta.loyalty.preview import preview
from lealta.loyalty.program import load_program
from lealta.orders.tables import Order
from lealta.segmentation.tables import ContactRfm
from lealta.users.service import create_user
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WHO = ("earner", "other")
PROGRAM = """\
name: Points club
points: {}
tiers:
  - name: Member
  - name: Gold
    qualify: {any: [{orders: 50}, {points: 300}]}
"""


def _customers(lealta: Lealta, suffix: str, now: dt.datetime) -> dict[str, str]:
    """Two customers with an order each; ``earner`` gets 300 status points, the day before the
    windows end (the preview's windows end on the stored RFM's as-of day when there is one)."""
    with lealta.services.uow.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Order)) or 0
    orders = [
        {"user_id": f"{who}-{suffix}", "id": f"points-{who}-{suffix}", "amount": "30.00",
         "placed_at": (now - dt.timedelta(days=20)).isoformat()}
        for who in WHO
    ]  # fmt: skip
    status, text = lealta.call(
        "POST", "/v1/orders/batch", body={"orders": orders}, headers=lealta.admin
    )
    assert status == 202, text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with lealta.services.uow.transaction() as session:
            if session.scalar(select(func.count()).select_from(Order)) == before + 2:
                found = {w: find_contact(session, "user_id", f"{w}-{suffix}") for w in WHO}
                ids = {w: c.id for w, c in found.items() if c is not None}
                rfm = session.scalar(select(func.max(ContactRfm.as_of)))
                end = rfm.date() if rfm is not None else now.date()
                credited = dt.datetime.combine(end - dt.timedelta(days=1), dt.time(12), dt.UTC)
                ledger.append(
                    session,
                    ids["earner"],
                    ledger.Entry("earn", 300, f"earn:{suffix}", order_id=f"points-e-{suffix}"),
                    now=credited,
                    actor="test",
                )
                return ids
        time.sleep(0.1)
    raise AssertionError("the orders were not stored")


def _signed_in(browser: Any, lealta: Lealta, email: str, path: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(lealta.url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lealta.url + path)
    page.errors = errors
    return page


@pytest.mark.browser
def test_the_editor_describes_previews_and_checks_a_points_rule(
    browser: Any, lealta: Lealta
) -> None:
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"points-marketer-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        had = service.get(session)
    _customers(lealta, suffix, now)
    page = _signed_in(browser, lealta, email, "/loyalty/program")
    try:
        help_text = page.locator(".rules-help").inner_text()
        assert "points: 2000" in help_text
        assert "Redeeming or losing points to expiry does not lower status" in help_text

        page.get_by_label("Programme (YAML)").fill(PROGRAM)
        page.get_by_role("button", name="Preview tiers").click()
        panel = page.locator("#preview")
        panel.wait_for()
        expected = {t.tier: t for t in preview(lealta.services, load_program(PROGRAM)).tiers}
        assert expected["Gold"].qualify >= 1  # the earner, at least
        gold = next(r for r in panel.locator("tbody tr").all_inner_texts() if r.startswith("Gold"))
        assert re.split(r"\s+", gold)[2] == f"{expected['Gold'].preview:,}"
        earners = panel.locator("[data-points-window='365']").inner_text()
        assert re.search(r"Points rules read status points: [\d,]+ customers? earned", earners)
        page.screenshot(path=str(_shots() / "loyalty-program-points-preview.png"), full_page=True)

        without = PROGRAM.replace("points: {}\n", "")
        page.get_by_label("Programme (YAML)").fill(without)
        page.get_by_role("button", name="Preview tiers").click()
        summary = page.locator(".summary")
        summary.wait_for()
        text = summary.inner_text()
        assert "tiers[Gold].qualify.any[1].points" in text
        assert "add a `points:` section" in text
        line = next(n for n, t in enumerate(without.splitlines(), 1) if "points: 300" in t)
        assert f"Line {line}" in text
        assert page.errors == []
    finally:
        page.context.close()
    with lealta.services.uow.transaction() as session:
        assert service.get(session) == had  # nothing saved


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.mark.browser
def test_renaming_a_tier_a_placement_shows_to_asks_before_saving(
    browser: Any, lealta: Lealta
) -> None:
    from sqlalchemy import delete

    from lealta.loyalty.tables import ContactTier, LoyaltyProgramVersion, TierChange
    from lealta.onsite.tables import OnsitePlacement

    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"rename-marketer-{suffix}@example.com"
    placement = f"gold-banner-{suffix}"
    with lealta.services.uow.transaction() as session:
        had = service.get(session)  # another module's programme, put back afterwards
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        mine = service.save(session, PROGRAM, now=now).version
        session.add(
            OnsitePlacement(id=placement, slot="home", template="t", audience={"tiers": ["Gold"]})
        )
    page = _signed_in(browser, lealta, email, "/loyalty/program")
    try:
        renamed = PROGRAM.replace("name: Gold", "name: Or")
        page.get_by_label("Programme (YAML)").fill(renamed)
        page.get_by_role("button", name=f"Save as version {mine + 1}").click()
        panel = page.locator(".dropped-tiers")
        panel.wait_for()
        assert (
            "Not saved yet: 1 place still names a tier this programme drops" in panel.inner_text()
        )
        assert f"on-site placement '{placement}' (audience tiers): Gold" in panel.inner_text()
        assert page.get_by_label("Programme (YAML)").input_value() == renamed
        page.screenshot(path=str(_shots() / "loyalty-program-dropped-tier.png"), full_page=True)
        page.get_by_label("Save anyway: I will update the places listed above").check()
        page.get_by_role("button", name=f"Save as version {mine + 1}").click()
        page.get_by_text(f"Saved as version {mine + 1}.").wait_for()
        assert page.errors == []
    finally:
        page.context.close()
        with lealta.services.uow.transaction() as session:
            session.execute(delete(OnsitePlacement).where(OnsitePlacement.id == placement))
            if had is None:
                for table in (TierChange, ContactTier, LoyaltyProgramVersion):
                    session.execute(delete(table))
            else:
                session.execute(
                    delete(LoyaltyProgramVersion).where(LoyaltyProgramVersion.version >= mine)
                )
