"""The journey editor in Chromium, as a marketer uses it: change the first e-mail's template and
a wait, save, see version 2; an invalid split shows its error on the step; re-point a branch;
the YAML view; on a laptop and a phone. Screenshots go to ``test-artifacts/console/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lealta.automations import catalog, service
from lealta.messages import catalog as messages_catalog
from lealta.messages import service as messages
from lealta.users.service import create_user
from tests.browser.conftest import Lealta

PASSWORD = "a long console password"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def journey(lealta: Lealta) -> dict[str, str]:
    """A marketer, and the shipped reactivation journey (with its templates) under a new id."""
    now = dt.datetime.now(dt.UTC)
    suffix = uuid.uuid4().hex[:6]
    email = f"editor-{suffix}@example.com"
    workflow_id = f"reactivation-{suffix}"
    text = catalog.template_text("inactive-reactivation").replace(
        "id: inactive-reactivation", f"id: {workflow_id}", 1
    )
    with lealta.services.uow.transaction() as session:
        create_user(session, email=email, role="marketer", password=PASSWORD, now=now)
        # only its message templates: the shipped journey itself stays uninstalled, for the
        # journeys tests that install it from the library on the same server
        rules = catalog.load_template("inactive-reactivation")
        shipped = set(messages_catalog.shipped_ids())
        used = sorted(t for t in service.templates_used(rules) if t in shipped)
        messages.install(session, used, now=now)
        service.save(session, text, now=now)
    return {"email": email, "id": workflow_id}


def _signed_in(context: Any, lealta: Lealta, journey: dict[str, str]) -> tuple[Any, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    # An invalid edit is answered 422 on purpose (the page re-shown with its errors).
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "422" not in m.text else None,
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{lealta.url}/journeys/{journey['id']}/edit")
    page.get_by_label("Email").fill(journey["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Edit “Inactive customers, easy reactivation”").wait_for()
    # htmx wires the editor's fields once the document has loaded: a change before that would
    # go unheard
    page.wait_for_load_state("load")
    return page, errors


@pytest.fixture
def page(context: Any, lealta: Lealta, journey: dict[str, str]) -> Iterator[Any]:
    opened, errors = _signed_in(context, lealta, journey)
    yield opened
    assert errors == []


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_a_marketer_changes_the_first_email_and_a_wait(
    page: Any, lealta: Lealta, journey: dict[str, str]
) -> None:
    _shot(page, "journey-edit")
    page.locator("#f-s--feedback--template").select_option("offer-reminder")
    page.locator("#f-s--window--duration_amount").fill("3")
    page.get_by_role("button", name="Save as version 2").first.click()
    page.get_by_text("Saved as version 2").wait_for()
    assert page.locator("#f-s--window--duration_amount").input_value() == "3"
    with lealta.services.uow.transaction() as session:
        rules = service.definition(session, journey["id"])
    assert rules.step("feedback").template == "offer-reminder"  # type: ignore[union-attr]
    assert rules.step("window").duration == "3d"  # type: ignore[union-attr]


@pytest.mark.browser
def test_an_invalid_split_shows_its_error_on_the_step(
    page: Any, lealta: Lealta, journey: dict[str, str]
) -> None:
    page.locator("#f-ins--window").select_option("split")
    page.locator("#step-window").get_by_role("button", name="Insert").click()
    page.get_by_text("Changes not saved yet.").wait_for()
    split = page.locator("#step-split-1")
    split.get_by_label("Percent of branch B").fill("40")
    page.get_by_role("button", name="Save as version").first.click()
    page.get_by_role("heading", name="Not saved: 1 thing to fix").wait_for()
    assert "split percentages add up to 90, not 100" in split.inner_text()
    _shot(page, "journey-edit-error")
    page.get_by_role("link", name="split-1").click()
    assert page.url.endswith("#step-split-1")


@pytest.mark.browser
def test_the_condition_kind_swaps_its_fields(page: Any) -> None:
    page.locator("#f-s--has-history--c--kind").select_option("tag")
    page.get_by_label("Tag", exact=True).first.wait_for()
    assert page.locator("#f-s--has-history--c--tag").count() == 1
    assert page.locator("#f-s--has-history--c--event").count() == 0


@pytest.mark.browser
def test_a_marketer_repoints_a_branch(page: Any, lealta: Lealta, journey: dict[str, str]) -> None:
    card = page.locator("#step-interacted > .step-card")
    no = card.get_by_label("No goes to")
    assert no.input_value() == "last-chance"
    assert "reminder \N{EN DASH} Send email “offer-reminder”" in no.inner_text()
    no.focus()
    no.select_option("reminder")
    page.get_by_text("Changes not saved yet.").wait_for()
    # the outline is redrawn at once: the last chance e-mail is no longer reached
    page.get_by_role("heading", name="Not reached from the start").wait_for()
    assert page.evaluate("document.activeElement.id") == "f-s--interacted--else"
    assert card.get_by_label("No goes to").input_value() == "reminder"
    _shot(page, "journey-edit-repoint")
    page.get_by_role("button", name="Save as version").first.click()
    page.get_by_text("Saved as version").first.wait_for()
    with lealta.services.uow.transaction() as session:
        rules = service.definition(session, journey["id"])
    assert rules.successors("interacted") == {
        "branch:then": "partially-active",
        "branch:else": "reminder",
    }
    assert rules.successors("last-chance") == {"next": "no-reaction"}  # kept, unreached


@pytest.mark.browser
def test_the_yaml_view_and_phone_widths(
    browser: Any, lealta: Lealta, journey: dict[str, str]
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    try:
        page, errors = _signed_in(context, lealta, journey)
        for name, path in (("journey-edit-phone", "edit"), ("journey-yaml-phone", "yaml")):
            page.goto(f"{lealta.url}/journeys/{journey['id']}/{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than the phone"
            _shot(page, name)
        assert errors == []
    finally:
        context.close()
    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, errors = _signed_in(desktop, lealta, journey)
        page.goto(f"{lealta.url}/journeys/{journey['id']}/yaml")
        page.get_by_label("Definition (YAML)").wait_for()
        _shot(page, "journey-yaml")
        assert errors == []
    finally:
        desktop.close()
