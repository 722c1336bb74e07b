"""Message templates in Chromium, as a marketer edits one: open a shipped template, change its
subject, see the preview follow for a real contact at phone width, save. Screenshots of the list
and the editor (desktop and phone) go to ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.messages import service
from lealta.users.service import create_user
from tests.browser.conftest import Lealta
from tests.factories import contacts

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def writer(lealta: Lealta) -> dict[str, str]:
    """A marketer, a customer to preview for, and the shipped win-back e-mails stored."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"writer-{suffix}@example.com"
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        contacts.person(
            session,
            now,
            email=f"c-{suffix}@shop.example",
            attributes={"first_name": f"Chiara{suffix}", "language": "it"},
            lifecycle_stage="Customer",
            last_seen_at=now + dt.timedelta(days=1),  # the sample the preview starts with
        )
        service.install(session, ["win-back-1", "win-back-2"], replace=True, now=now)
    return {"email": email, "name": f"Chiara{suffix}"}


def _signed_in(context: Any, lealta: Lealta, writer: dict[str, str], size: dict[str, int]) -> Any:
    page = context.new_page()
    page.set_viewport_size(size)
    page.goto(lealta.url + "/signin?next=/messages")
    page.get_by_label("Email").fill(writer["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Messages").wait_for()
    return page


@pytest.fixture
def errors() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert found == []


def _watch(page: Any, errors: list[str]) -> None:
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_marketer_changes_a_subject_previews_it_on_a_phone_and_saves(
    context: Any, lealta: Lealta, writer: dict[str, str], errors: list[str]
) -> None:
    page = _signed_in(context, lealta, writer, DESKTOP)
    _watch(page, errors)
    _shot(page, "messages-desktop")
    page.get_by_role("link", name="win-back-1").click()
    page.get_by_role("heading", name="win-back-1").wait_for()
    frame = page.frame_locator("#preview-frame")
    frame.get_by_text(f"Ciao {writer['name']}").wait_for()  # her language, her name
    subject = page.get_by_label("Subject").first
    subject.fill("{{ contact.first_name }}, a spring surprise")
    page.get_by_label("Preview in").select_option(label="Default")
    details = page.locator("#preview-details")
    details.get_by_text(f"{writer['name']}, a spring surprise").wait_for()
    frame.get_by_text(f"Hello {writer['name']}").wait_for()  # the frame follows the draft
    assert details.get_by_text("tracked").first.is_visible()
    page.get_by_text("Phone (375 px)").click()
    width = page.locator("#preview-frame").evaluate("e => e.getBoundingClientRect().width")
    assert width == 375
    _shot(page, "message-editor-desktop")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved. Messages sent from now on use this version.").wait_for()
    with lealta.services.uow.transaction() as session:
        assert service.get(session, "win-back-1").body["subject"] == (
            "{{ contact.first_name }}, a spring surprise"
        )


@pytest.mark.browser
def test_an_error_is_shown_on_its_line_and_the_editor_fits_a_phone(
    context: Any, lealta: Lealta, writer: dict[str, str], errors: list[str]
) -> None:
    page = _signed_in(context, lealta, writer, PHONE)
    _watch(page, errors)
    _shot(page, "messages-phone")
    page.goto(lealta.url + "/messages/win-back-2")
    text = page.get_by_label("Text part").first
    text.fill("Hello\n{{ contact.first_name }}\n{% if %}\n")
    page.get_by_role("button", name="Save", exact=True).click()
    problem = page.get_by_role("link", name="text line 3")
    problem.wait_for()
    problem.click()
    assert page.evaluate("document.activeElement.id") == "f-default-text"
    _shot(page, "message-editor-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    errors.remove(next(e for e in errors if "status of 400" in e))  # the refused save, on purpose
