"""The tracking snippet in a real browser: page views, clicks, identity, consent, privacy."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lealta.identity.service import find_contact
from lealta.snippet.script import STUB
from tests.browser.conftest import Lealta, Site, wait_for

pytestmark = pytest.mark.browser

QUIET = 0.8  # longer than the snippet's 200 ms batching delay


def _tag(lealta: Lealta, **attributes: str) -> str:
    extra = "".join(
        f' data-{name.replace("_", "-")}="{value}"' for name, value in attributes.items()
    )
    return f'<script src="{lealta.url}/t.js" data-key="{lealta.track_key}"{extra} async></script>'


def _cookie(context: Any, url: str, name: str) -> dict[str, Any] | None:
    return next((c for c in context.cookies(url) if c["name"] == name), None)


def _batches(page: Any) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/v1/batch") else None)
    return sent


def test_a_page_view_is_stored_with_its_path_title_and_campaign(
    lealta: Lealta, site: Site, context: Any
) -> None:
    url = site.add("/landing", _tag(lealta), title="Spring sale")
    page = context.new_page()
    page.goto(url + "?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
    aid = wait_for(lambda: _cookie(context, site.url, "lealta_aid"), what="the cookie")["value"]
    (view,) = wait_for(lambda: lealta.events(anonymous_id=aid, type="page"), what="page view")
    assert view.properties["path"] == "/landing"
    assert view.properties["title"] == "Spring sale"
    assert view.properties["search"].startswith("?utm_source=newsletter")
    assert view.context["campaign"] == {"source": "newsletter", "medium": "email", "name": "spring"}
    assert view.context["library"]["name"] == "lealta.js"
    assert view.context["page"]["url"].startswith(site.url + "/landing")
    assert "Chrome" in view.context["userAgent"]
    assert view.context["locale"]


def test_the_anonymous_id_is_a_first_party_cookie_stable_across_page_loads(
    lealta: Lealta, site: Site, context: Any
) -> None:
    url = site.add("/stable", _tag(lealta))
    page = context.new_page()
    page.goto(url)
    first = wait_for(lambda: _cookie(context, site.url, "lealta_aid"), what="the cookie")
    page.goto(url + "?again=1")
    second = wait_for(lambda: _cookie(context, site.url, "lealta_aid"), what="the cookie")
    assert first["value"] == second["value"]
    assert len(first["value"]) == 36  # a UUID
    assert first["sameSite"] == "Lax"
    browser_now = page.evaluate("Date.now()") / 1000  # the clock the cookie was set by
    assert first["expires"] - browser_now > 364 * 86400
    assert page.evaluate("localStorage.getItem('lealta_aid')") == first["value"]
    views = wait_for(
        lambda: (found := lealta.events(anonymous_id=first["value"], type="page"))[1:] and found,
        what="two page views",
    )
    assert [v.properties["search"] for v in views] == ["", "?again=1"]


def test_a_click_on_a_tracked_element_is_stored_with_its_properties(
    lealta: Lealta, site: Site, context: Any
) -> None:
    button = (
        '<button id="buy" data-lealta-track="Plan Chosen" data-lealta-prop-plan="pro" '
        'data-lealta-prop-seats="5"><span>Choose Pro</span></button>'
    )
    page = context.new_page()
    page.goto(site.add("/pricing", _tag(lealta) + button))
    page.wait_for_function("window.lealta && window.lealta.version")
    page.click("#buy span")
    aid = page.evaluate("lealta.anonymousId()")
    (click,) = wait_for(lambda: lealta.events(anonymous_id=aid, name="Plan Chosen"), what="click")
    assert click.type == "track"
    assert click.properties == {"plan": "pro", "seats": 5}


def test_identify_with_an_email_merges_the_anonymous_history(
    lealta: Lealta, site: Site, context: Any
) -> None:
    other_device = {"anonymousId": "phone-app-1", "traits": {"email": "ivy@example.com"}}
    auth = {"Authorization": f"Bearer {lealta.track_key}"}
    status, _ = lealta.call("POST", "/v1/identify", body=other_device, headers=auth)
    assert status == 200
    wait_for(lambda: lealta.events(anonymous_id="phone-app-1"), what="the other device")
    page = context.new_page()
    page.goto(site.add("/welcome", _tag(lealta)))
    page.wait_for_function("window.lealta && window.lealta.version")
    aid = page.evaluate("lealta.anonymousId()")
    wait_for(lambda: lealta.events(anonymous_id=aid, type="page"), what="the page view")
    page.evaluate("lealta.identify('user-7', {email: 'Ivy@Example.com', plan: 'pro'})")
    identified = wait_for(lambda: lealta.events(user_id="user-7"), what="the identify")

    with lealta.services.uow.transaction() as session:
        by_email = find_contact(session, "email", "ivy@example.com")
        by_browser = find_contact(session, "anonymous_id", aid)
        assert by_email is not None
        assert by_browser is not None
        assert by_browser.id == by_email.id
        assert by_email.attributes["plan"] == "pro"
    (view,) = lealta.events(anonymous_id=aid, type="page")
    assert view.contact_id == by_email.id == identified[0].contact_id


def test_with_consent_required_nothing_is_sent_until_consent_is_given(
    lealta: Lealta, site: Site, context: Any
) -> None:
    page = context.new_page()
    sent = _batches(page)
    page.goto(site.add("/consent", _tag(lealta, require_consent="true")))
    page.wait_for_function("window.lealta && window.lealta.version")
    page.evaluate("lealta.track('Video Played', {video: 'intro'})")
    time.sleep(QUIET)
    aid = page.evaluate("lealta.anonymousId()")
    assert sent == []
    assert _cookie(context, site.url, "lealta_aid") is None  # no identifier stored either
    assert lealta.events(anonymous_id=aid) == []

    page.evaluate("lealta.consent(true)")
    events = wait_for(
        lambda: (found := lealta.events(anonymous_id=aid))[1:] and found, what="queued events"
    )
    assert [(e.type, e.name) for e in events] == [("page", None), ("track", "Video Played")]
    assert _cookie(context, site.url, "lealta_consent")["value"] == "granted"  # type: ignore[index]
    assert _cookie(context, site.url, "lealta_aid")["value"] == aid  # type: ignore[index]


def test_consent_refused_sends_nothing_even_on_pages_that_do_not_ask(
    lealta: Lealta, site: Site, context: Any
) -> None:
    page = context.new_page()
    sent = _batches(page)
    page.goto(site.add("/refuse", _tag(lealta, require_consent="true")))
    page.wait_for_function("window.lealta && window.lealta.version")
    page.evaluate("lealta.track('Video Played'); lealta.consent(false)")
    page.goto(site.add("/no-banner", _tag(lealta)))
    page.wait_for_function("window.lealta && window.lealta.version")
    page.evaluate("lealta.track('Still Here')")
    time.sleep(QUIET)
    assert sent == []
    assert _cookie(context, site.url, "lealta_consent")["value"] == "denied"  # type: ignore[index]
    assert _cookie(context, site.url, "lealta_aid") is None
    assert lealta.events(name="Still Here") == []


def test_global_privacy_control_is_honoured_unless_the_site_opts_out(
    lealta: Lealta, site: Site, context: Any
) -> None:
    context.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"
    )
    page = context.new_page()
    sent = _batches(page)
    page.goto(site.add("/gpc", _tag(lealta)))
    page.wait_for_function("window.lealta && window.lealta.version")
    page.evaluate("lealta.track('Ignored')")
    time.sleep(QUIET)
    assert sent == []
    page.goto(site.add("/gpc-off", _tag(lealta, respect_dnt="false")))
    aid = page.evaluate("lealta.anonymousId()")
    wait_for(lambda: lealta.events(anonymous_id=aid, type="page"), what="page view")


def test_calls_made_before_the_script_loads_are_replayed(
    lealta: Lealta, site: Site, context: Any
) -> None:
    early = "<script>lealta.track('Early Bird', {n: 1})</script>"
    page = context.new_page()
    page.goto(site.add("/stub", STUB + early + _tag(lealta)))
    page.wait_for_function("window.lealta && window.lealta.version")
    aid = page.evaluate("lealta.anonymousId()")
    (event,) = wait_for(lambda: lealta.events(anonymous_id=aid, name="Early Bird"), what="replay")
    assert event.properties == {"n": 1}


def test_a_marked_form_is_tracked_without_secrets_and_identifies_the_person(
    lealta: Lealta, site: Site, context: Any
) -> None:
    form = (
        '<form data-lealta-form="Contact Us" method="post" action="/sent">'
        '<input name="email" type="email" value="jo@example.com">'
        '<input name="first_name" value="Jo">'
        '<input name="topic" value="pricing">'
        '<input name="password" type="password" value="hunter2">'
        '<input name="card_number" value="4111111111111111">'
        '<button id="send">Send</button></form>'
    )
    page = context.new_page()
    page.goto(site.add("/contact", _tag(lealta) + form))
    page.wait_for_function("window.lealta && window.lealta.version")
    aid = page.evaluate("lealta.anonymousId()")
    page.click("#send")  # navigates away at once: the events leave with sendBeacon
    page.wait_for_url(site.url + "/sent")
    (submitted,) = wait_for(
        lambda: lealta.events(anonymous_id=aid, name="Form Submitted"), what="the form event"
    )
    assert submitted.properties == {
        "form": "Contact Us",
        "email": "jo@example.com",
        "first_name": "Jo",
        "topic": "pricing",
    }
    with lealta.services.uow.transaction() as session:
        contact = find_contact(session, "email", "jo@example.com")
        assert contact is not None
        assert contact.id == submitted.contact_id
        assert contact.attributes["first_name"] == "Jo"
