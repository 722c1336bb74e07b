"""One person's whole trip through the product, over the REST API, a real SMTP server and the
worker's dispatcher: a tracked event starts a workflow, the e-mail is rendered from a stored
template and arrives with tracked links and one-click unsubscribe headers; the click redirects
with UTM parameters, the purchase that follows is credited to the message, the report counts
it all, and after the one-click unsubscribe the run ends and nothing more is sent."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from lealta.automations.runner import advance_all
from lealta.channels.dispatcher import DispatchReport, dispatch_due
from lealta.channels.email import EmailChannel
from lealta.channels.rendering import renderer
from lealta.clock import FrozenClock
from tests.integration.channels_email.conftest import Mailroom, channel_for, smtp_server
from tests.integration.conftest import Api

WORKFLOW = """
id: cart
name: Cart reminder
trigger: {type: event, event: Checkout Started}
steps:
  - {id: remind, type: send, channel: email, template: cart-note}
  - {id: later, type: wait, duration: 1h}
  - {id: again, type: send, channel: email, template: cart-note}
"""
TEMPLATE = {
    "channel": "email",
    "body": {
        "subject": "{{ contact.first_name }}, your cart",
        "html": (
            "<html><body><p>Hi {{ contact.first_name }},</p>"
            "{% for p in trigger.properties.products %}"
            '<p><a href="{{ p.url }}">{{ p.name }}</a></p>{% endfor %}</body></html>'
        ),
    },
}


def _dispatch(api: Api, channel: EmailChannel) -> DispatchReport:
    render = renderer(api.services.settings, api.services.clock)
    return dispatch_due(api.services, {"email": channel}, render=render)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_cart_reminder_is_read_clicked_bought_from_and_unsubscribed_from(api: Api) -> None:
    client, admin = api.client, api.admin
    assert client.put("/v1/templates/cart-note", headers=admin, json=TEMPLATE).is_success
    assert client.post("/v1/automations", headers=admin, content=WORKFLOW).is_success
    assert client.post("/v1/automations/cart/enable", headers=admin).is_success
    identify = {"userId": "ana", "traits": {"email": "ana@example.com", "first_name": "Ana"}}
    assert client.post("/v1/identify", auth=api.track_auth, json=identify).is_success
    api.drain()
    [contact] = client.get("/v1/contacts", headers=admin, params={"user_id": "ana"}).json()[
        "contacts"
    ]
    granted = client.put(
        f"/v1/contacts/{contact['id']}/consent/email", headers=admin, json={"status": "granted"}
    )
    assert granted.is_success, granted.text
    products = [{"name": "Green tea", "url": "https://shop.example/p/tea"}]
    checkout = {"userId": "ana", "event": "Checkout Started", "properties": {"products": products}}
    assert client.post("/v1/track", auth=api.track_auth, json=checkout).is_success
    api.drain()
    advance_all(api.services)

    room = Mailroom()
    with smtp_server(room) as port, channel_for(port) as channel:
        assert _dispatch(api, channel).sent == 1
        [received] = room.received
        message = received.message
        assert message["Subject"] == "Ana, your cart"
        assert message["To"].endswith("<ana@example.com>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        assert "Hi Ana," in html
        [tracked] = [u for u in re.findall(r'href="([^"]+)"', html) if "/l/c/" in u]
        assert "shop.example" not in tracked  # the link goes through Lealta, signed

        clicked = client.get(_path(tracked), follow_redirects=False)
        assert clicked.status_code == 302
        target = urlsplit(clicked.headers["location"])
        assert (target.netloc, target.path) == ("shop.example", "/p/tea")
        assert parse_qs(target.query)["utm_campaign"] == ["cart-note"]

        order = {
            "userId": "ana",
            "event": "Order Completed",
            "properties": {"order_id": "A-1", "total": 25.5, "currency": "EUR"},
        }
        assert client.post("/v1/track", auth=api.track_auth, json=order).is_success
        api.drain()
        [row] = client.get("/v1/reports/messages", headers=admin, params={"by": "template"}).json()[
            "rows"
        ]
        assert row["template"] == "cart-note"
        assert (row["sent"], row["clicked_unique"], row["converted"]) == (1, 1, 1)
        assert float(row["revenue"]) == 25.5

        unsubscribe = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"])
        assert unsubscribe is not None
        one_click = client.post(
            _path(unsubscribe.group(1)),
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200

        api.services.clock = _later(api)
        advance_all(api.services)  # the run ends: the workflow exits on unsubscribing
        stats = client.get("/v1/automations/cart/stats", headers=admin).json()
        assert (stats["exited"], stats["waiting"]) == (1, 0), stats
        assert _dispatch(api, channel).claimed == 0
        assert len(room.received) == 1


def _later(api: Api) -> FrozenClock:
    return FrozenClock(api.services.clock.now() + dt.timedelta(hours=2))
