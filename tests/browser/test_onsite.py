"""On-site slots in a real browser: the right banner for a tagged visitor, its impression
recorded when seen, and a click through the tracked redirect.

The API runs here with CORS open to the test site (the slots are fetched across origins and
read, unlike the tracker's fire-and-forget batches) and with its public URL set to where it
really listens, so the impression and click URLs it signs lead back to it.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from sqlalchemy import select

from lealta.bootstrap import build
from lealta.channels.outbox import enqueue
from lealta.channels.tables import MessageInteraction
from lealta.contacts.service import add_tag
from lealta.identity.service import find_contact
from lealta.messages.tables import MessageTemplate
from lealta.rest.app import create_app
from tests.browser.conftest import Lealta, Site, wait_for
from tests.factories.services import api_keys, settings_for

pytestmark = pytest.mark.browser

TEMPLATES = {
    "vip-banner": (
        '<a id="vip" href="/vip">VIP early access</a><script>window.injected = true</script>'
    ),
    "everyone-banner": '<a id="sale" href="/sale">Summer sale</a>',
    "sidebar-block": '<p id="side">Free shipping over 50 EUR</p>',
    "comeback": '<p id="comeback">We saved your cart</p>',
}
PLACEMENTS = {
    "hero-vip": {
        "slot": "hero",
        "template": "vip-banner",
        "audience": {"tags": ["vip"]},
        "priority": 10,
    },
    "hero-all": {"slot": "hero", "template": "everyone-banner"},
    "sidebar-all": {"slot": "sidebar", "template": "sidebar-block"},
}


@pytest.fixture(scope="module")
def onsite(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Lealta]:
    """The app, CORS open to ``site``, its public URL where it listens; placements made."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    database = Path(tmp_path_factory.mktemp("onsite")) / "lealta.db"
    settings = settings_for(
        f"sqlite:///{database}",
        secret_key="browser-onsite-secret",
        process_in_server=True,
        cors_origins=[site.url],
        public_url=url,
    )
    services = build(settings)
    with services.uow.transaction() as session:
        admin, track = api_keys(session, dt.datetime.now(dt.UTC))
        for template_id, markup in TEMPLATES.items():
            session.add(MessageTemplate(id=template_id, channel="onsite", body={"html": markup}))
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), log_level="warning", ws="none", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    lealta = Lealta(url, services, admin, track)
    for placement_id, body in PLACEMENTS.items():
        status, text = lealta.call(
            "PUT", f"/v1/onsite/placements/{placement_id}", body=body, headers=lealta.admin
        )
        assert status == 201, text
    try:
        yield lealta
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listening.close()
        services.uow.engine.dispose()


def _page(lealta: Lealta, site: Site, path: str) -> str:
    body = (
        f'<script src="{lealta.url}/t.js" data-key="{lealta.track_key}" async></script>'
        f'<script src="{lealta.url}/onsite.js" async></script>'
        '<div data-lealta-slot="hero">Our shop</div>'
        '<aside data-lealta-slot="sidebar"></aside>'
    )
    return site.add(path, body)


def _filled(page: Any, slot: str) -> str:
    selector = f"[data-lealta-slot={slot}]:not([data-lealta-filled=pending])[data-lealta-filled]"
    page.wait_for_selector(selector)
    return str(page.get_attribute(f"[data-lealta-slot={slot}]", "data-lealta-filled"))


def _tag(lealta: Lealta, anonymous_id: str, tag: str) -> str:
    with lealta.services.uow.transaction() as session:
        contact = find_contact(session, "anonymous_id", anonymous_id)
        assert contact is not None
        add_tag(session, contact, tag, now=dt.datetime.now(dt.UTC))
        return contact.id


def _known(lealta: Lealta, anonymous_id: str) -> bool:
    with lealta.services.uow.transaction() as session:
        return find_contact(session, "anonymous_id", anonymous_id) is not None


def test_a_tagged_visitor_sees_their_banner_counts_an_impression_and_clicks_through(
    onsite: Lealta, site: Site, context: Any
) -> None:
    url = _page(onsite, site, "/shop")
    page = context.new_page()
    page.goto(url)
    assert _filled(page, "hero") == "hero-all"  # a first visit: nobody knows them yet
    assert _filled(page, "sidebar") == "sidebar-all"
    assert page.inner_text("[data-lealta-slot=hero]") == "Summer sale"
    aid = page.evaluate("lealta.anonymousId()")
    wait_for(lambda: _known(onsite, aid), what="the visitor's profile")
    _tag(onsite, aid, "vip")

    page.reload()
    assert _filled(page, "hero") == "hero-vip"
    assert _filled(page, "sidebar") == "sidebar-all"
    assert page.inner_text("#vip") == "VIP early access"
    assert page.evaluate("window.injected") is None  # scripts in content never run
    assert page.inner_text("[data-lealta-slot=sidebar]") == "Free shipping over 50 EUR"
    seen = wait_for(
        lambda: [
            e
            for e in onsite.events(anonymous_id=aid, name="Onsite Impression")
            if e.properties["placement"] == "hero-vip"
        ],
        what="the VIP banner's impression",
    )
    assert seen[0].properties["slot"] == "hero"
    assert seen[0].properties["page"] == url

    href = str(page.get_attribute("#vip", "href"))
    assert href.startswith(onsite.url + "/v1/onsite/click/")
    page.click("#vip")
    page.wait_for_url(site.url + "/vip*")
    landed = urlsplit(page.url)
    assert parse_qs(landed.query) == {
        "utm_source": ["lealta"],
        "utm_medium": ["onsite"],
        "utm_campaign": ["hero-vip"],
    }
    (clicked,) = wait_for(
        lambda: onsite.events(anonymous_id=aid, name="Onsite Click"), what="the click"
    )
    assert clicked.properties["url"] == page.url
    assert clicked.properties["placement"] == "hero-vip"


def test_a_workflow_message_takes_the_slot_once_and_its_impression_is_an_open(
    onsite: Lealta, site: Site, context: Any
) -> None:
    url = _page(onsite, site, "/cart")
    page = context.new_page()
    page.goto(url)
    _filled(page, "sidebar")
    aid = page.evaluate("lealta.anonymousId()")
    wait_for(lambda: _known(onsite, aid), what="the visitor's profile")
    now = dt.datetime.now(dt.UTC)
    with onsite.services.uow.transaction() as session:
        contact = find_contact(session, "anonymous_id", aid)
        assert contact is not None
        message = enqueue(
            session,
            key=f"cart-{aid}",
            contact_id=contact.id,
            channel="onsite",
            template="comeback",
            payload={"slot": "sidebar"},
            not_before=now,
            now=now,
        )
        assert message is not None
        outbox_id = message.id

    page.reload()
    assert _filled(page, "sidebar") == f"message:{outbox_id}"
    assert page.inner_text("#comeback") == "We saved your cart"

    def opened() -> list[Any]:
        with onsite.services.uow.transaction() as session:
            return list(
                session.scalars(
                    select(MessageInteraction).where(MessageInteraction.outbox_id == outbox_id)
                )
            )

    (interaction,) = wait_for(opened, what="the open")
    assert interaction.kind == "opened"
    page.reload()
    assert _filled(page, "sidebar") == "sidebar-all"  # shown once
