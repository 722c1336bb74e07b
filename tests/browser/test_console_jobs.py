"""Recomputing RFM from the console in Chromium: a marketer clicks "Recompute now" on the
Segments page, watches the bar follow the real job run by the server's worker, and sees it
reach "Done". Screenshots (laptop and phone) go to ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lealta.jobs import runner, service
from lealta.orders.tables import Order
from lealta.users.service import create_user
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
CUSTOMERS = 12


@pytest.fixture(scope="module")
def marketer(lealta: Lealta) -> str:
    """A marketer, and orders from a dozen customers in the store."""
    suffix = uuid.uuid4().hex[:6]
    email = f"recompute-{suffix}@example.com"
    now = dt.datetime.now(dt.UTC)
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        before = session.scalar(select(func.count()).select_from(Order)) or 0
    orders = [
        {
            "user_id": f"shopper-{suffix}-{n % CUSTOMERS}",
            "id": f"order-{suffix}-{n}",
            "placed_at": (now - dt.timedelta(days=3 * n + 1)).isoformat(),
            "amount": f"{20 + 7 * n}.00",
        }
        for n in range(3 * CUSTOMERS)
    ]
    status, text = lealta.call(
        "POST", "/v1/orders/batch", body={"orders": orders}, headers=lealta.admin
    )
    assert status == 202, text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the server's processor stores them
        with lealta.services.uow.transaction() as session:
            if session.scalar(select(func.count()).select_from(Order)) == before + len(orders):
                return email
        time.sleep(0.1)
    raise AssertionError("the orders were not stored")


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The server's RFM job pauses when it starts scoring, until the event is set: the test
    sees the bar mid-way. The work itself is the real one."""
    release = threading.Event()
    real = runner.KINDS["rfm"]

    def paused(services: Any, params: dict[str, Any], progress: Any) -> dict[str, Any]:
        def hold(fraction: float, step: str) -> None:
            progress(fraction, step)
            if step == "Scoring customers":
                release.wait(30)

        return real(services, params, hold)

    monkeypatch.setitem(runner.KINDS, "rfm", paused)
    yield release
    release.set()


def _sign_in(page: Any, lealta: Lealta, email: str, path: str) -> None:
    page.goto(lealta.url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="RFM scores").wait_for()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_marketer_recomputes_rfm_and_sees_the_bar_reach_done(
    context: Any, lealta: Lealta, marketer: str, held: threading.Event
) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in(page, lealta, marketer, "/segments")

    page.get_by_label("Also find clusters").check()
    page.get_by_role("button", name="Recompute now").click()
    page.wait_for_url(lealta.url + "/segments")
    bar = page.locator(".recompute progress")
    words = page.locator(".recompute .job-words")
    words.get_by_text("Scoring customers").wait_for(timeout=20_000)  # polled, not reloaded
    assert 35 <= int(bar.get_attribute("value") or 0) < 100
    _shot(page, "segments-recompute-running")

    held.set()
    done = page.locator(".recompute .job-done")
    done.wait_for(timeout=60_000)
    assert "customers scored into" in done.inner_text()
    with lealta.services.uow.transaction() as session:
        job = service.latest(session, "rfm")
        assert job is not None
        assert job.params == {"clusters": "auto"}
        assert job.result is not None
        assert job.result["clusters"] >= 2
    assert page.locator(".recompute progress").count() == 0  # the polling stopped with it
    _shot(page, "segments-recompute-done")

    page.goto(lealta.url + "/jobs")
    page.get_by_role("heading", name="Latest jobs").wait_for()
    assert page.get_by_role("cell", name=marketer).first.is_visible()
    _shot(page, "jobs")
    page.get_by_role("link", name="See the new segments").click()
    page.wait_for_url(lealta.url + "/segments")
    assert errors == []


@pytest.mark.browser
def test_the_panel_fits_a_phone_and_works_by_keyboard(
    browser: Any, lealta: Lealta, marketer: str
) -> None:
    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page = phone.new_page()
        _sign_in(page, lealta, marketer, "/jobs")
        button = page.get_by_role("button", name="Recompute now")
        button.focus()
        assert page.evaluate("document.activeElement.textContent") == "Recompute now"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        _shot(page, "jobs-phone")
        page.goto(lealta.url + "/segments")
        page.get_by_role("heading", name="RFM scores").wait_for()
        _shot(page, "segments-recompute-phone")
    finally:
        phone.close()
