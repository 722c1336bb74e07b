"""A plain HTML sign-up form in a real browser, JavaScript off: double opt-in end to end."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from lealta.contacts.consent import consents_in_force
from lealta.contacts.tables import ContactList, ListMembership
from lealta.forms.embed import form_html
from lealta.identity.service import find_contact
from lealta.tracking.tables import InboxMessage
from tests.browser.conftest import Lealta, Site, wait_for

pytestmark = pytest.mark.browser


def _state(lealta: Lealta, email: str) -> tuple[str, str] | None:
    """(membership status, email consent status) of ``email`` on the form's list."""
    with lealta.services.uow.transaction() as session:
        contact = find_contact(session, "email", email)
        if contact is None:
            return None
        listed = session.scalars(select(ContactList).where(ContactList.slug == "club")).one()
        membership = session.get(ListMembership, (listed.id, contact.id))
        consent = consents_in_force(session, contact.id).get("email")
        if membership is None or consent is None:
            return None
        return membership.status, consent.status


def _token(lealta: Lealta) -> str | None:
    """The confirmation token of the submission (in its event, queued or applied)."""
    with lealta.services.uow.transaction() as session:
        payloads = [json.loads(p) for p in session.scalars(select(InboxMessage.payload))]
    for payload in payloads:
        token = payload.get("properties", {}).get("confirmation_token")
        if token:
            return str(token)
    for event in _form_events(lealta):
        if event.properties.get("confirmation_token"):
            return str(event.properties["confirmation_token"])
    return None


def _form_events(lealta: Lealta) -> list[Any]:
    return lealta.events(name="Form Submitted")


def test_a_plain_form_signs_up_with_double_opt_in_and_the_link_confirms(
    lealta: Lealta, site: Site, browser: Any
) -> None:
    definition = {
        "slug": "club",
        "name": "Club",
        "list": "club",
        "double_opt_in": True,
        "consent_channels": ["email"],
        "redirect_url": site.url + "/welcome?from=form",
    }
    status, text = lealta.call("POST", "/v1/forms", body=definition, headers=lealta.admin)
    assert status == 201, text
    status, embed = lealta.call(
        "GET", f"/v1/forms/club/embed?key={lealta.track_key}", headers=lealta.admin
    )
    assert status == 200
    assert embed == form_html(
        action=f"{lealta.url}/v1/forms/club",
        slug="club",
        name="Club",
        consent_channels=["email"],
        write_key=lealta.track_key,
    )
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.add("/join", embed))
        page.fill("input[name=email]", "Kim@Example.com")
        page.fill("input[name=first_name]", "Kim")
        page.check("input[name=consent_email]")
        with page.expect_navigation():
            page.click("button[type=submit]")
        landed = urlsplit(page.url)
        assert f"{landed.scheme}://{landed.netloc}{landed.path}" == site.url + "/welcome"
        assert parse_qs(landed.query) == {"from": ["form"], "lealta": ["ok"]}
        assert wait_for(lambda: _state(lealta, "kim@example.com")) == ("pending", "pending")

        token = wait_for(lambda: _token(lealta), what="the confirmation token")
        page.goto(f"{lealta.url}/v1/forms/club/confirm?token={token}")
        assert parse_qs(urlsplit(page.url).query)["lealta"] == ["confirmed"]
        assert _state(lealta, "kim@example.com") == ("subscribed", "granted")
    finally:
        context.close()
    applied = wait_for(lambda: lealta.events(name="Subscription Confirmed"), what="the event")
    with lealta.services.uow.transaction() as session:
        contact = find_contact(session, "email", "kim@example.com")
        assert contact is not None
        assert contact.attributes["first_name"] == "Kim"
        assert applied[0].contact_id == contact.id


def test_with_the_snippet_on_the_page_the_sign_up_joins_the_browser_history(
    lealta: Lealta, site: Site, context: Any
) -> None:
    definition = {"slug": "updates", "list": "updates", "redirect_url": site.url + "/done"}
    status, text = lealta.call("POST", "/v1/forms", body=definition, headers=lealta.admin)
    assert status == 201, text
    markup = form_html(
        action=f"{lealta.url}/v1/forms/updates",
        slug="updates",
        name="Updates",
        consent_channels=[],
        write_key=lealta.track_key,
    )
    tag = f'<script src="{lealta.url}/t.js" data-key="{lealta.track_key}" async></script>'
    page = context.new_page()
    page.goto(site.add("/updates", tag + markup))
    page.wait_for_function("window.lealta && window.lealta.version")
    aid = page.evaluate("lealta.anonymousId()")
    page.fill("input[name=email]", "lou@example.com")
    with page.expect_navigation():
        page.click("button[type=submit]")  # the API is another site: its cookie is not sent
    assert page.url == site.url + "/done?lealta=ok"
    views = wait_for(lambda: lealta.events(anonymous_id=aid, type="page"), what="page view")
    signed_up = wait_for(lambda: lealta.events(name="Form Submitted", anonymous_id=aid))
    with lealta.services.uow.transaction() as session:
        contact = find_contact(session, "email", "lou@example.com")
        assert contact is not None
    assert views[0].contact_id == signed_up[0].contact_id == contact.id
