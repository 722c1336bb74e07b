"""What a person receives does not change when sending gets faster: every shipped template (and
the send benchmark's MJML e-mail), rendered for the same people with the same trigger data and
built into the e-mail Lealta hands to SMTP, gives the same bytes as recorded in
``rendered_digests.json`` (SHA-256 of each message's bytes; for other channels of its parts).

When a template or the way messages are written changes on purpose, write the file again with
``LEALTA_WRITE_DIGESTS=1 pytest tests/integration/messages/test_rendered_bytes.py`` and review
the messages that changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from lealta.channels.base import Delivery
from lealta.channels.email import compose, mailbox
from lealta.channels.tables import OutboxMessage
from lealta.config import Settings
from lealta.contacts.tables import Contact, Identifier
from lealta.messages import catalog
from lealta.messages.service import RenderRequest, render_many, save
from lealta.storage.unit_of_work import UnitOfWork

DIGESTS = Path(__file__).with_name("rendered_digests.json")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # the frozen moment messages are made at
PEOPLE = {
    "c-ana": ("ana@example.com", {"first_name": "Ana", "last_name": "Lima", "language": "en"}),
    "c-emile": (
        "emile@example.it",
        {"first_name": "Émile & <Zoë>", "language": "it", "timezone": "Europe/Rome"},
    ),
    "c-nobody": ("nobody@example.com", {}),
}
TRIGGER = {
    "products": [
        {"name": "Sencha & matcha", "price": 12.5, "quantity": 2, "url": "https://tea.example/s"},
        {"name": "Teapot", "price": 40, "url": "https://tea.example/p?a=1&b=2"},
        {"name": "Whisk", "price": 8.9, "image_url": "https://tea.example/w.png"},
    ],
    "currency": "EUR",
    "url": "https://tea.example/cart",
    "file": "brewing-guide.pdf",
    "title": "The brewing guide",
    "from": "Silver",
    "to": "Gold",
    "tier": "Gold",
    "to_tier": "Silver",
    "drops_on": "2026-04-01",
    "expires_on": "2026-03-16",
    "points": 120,
    "keep": "1 more order keeps you Gold",
    "keep_before": "2026-04-01",
    "keep_orders": 1,
    "keep_spend": 25,
}
MJML = {  # benchmarks/send.py's MJML_BODY: converted once per version, filled per person
    "subject": "{{ contact.first_name | default('Hi') }}, your cart is waiting",
    "preheader": "The items you picked are still in your cart.",
    "mjml": """<mjml><mj-body><mj-section><mj-column>
  <mj-text>Hello {{ contact.first_name | default("there") }},</mj-text>
  <mj-table>
    {% for item in trigger.properties.products %}
    <tr><td>{% if item.url %}<a href="{{ item.url }}">{{ item.name }}</a>
      {%- else %}{{ item.name }}{% endif %}</td>
      <td>{{ item.price | money(trigger.properties.currency | default("EUR")) }}</td></tr>
    {% endfor %}
  </mj-table>
  <mj-button href="{{ trigger.properties.url }}">Return to your cart</mj-button>
  <mj-text><a href="{{ links.unsubscribe }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
""",
}


def _templates() -> list[tuple[str, str, dict[str, Any]]]:
    found = [(d["id"], d["channel"], d["body"]) for d in catalog.shipped()]
    found.append(("bench-mjml", "email", MJML))
    found.append(("text-links", "email", {**MJML, "text": "See {{ trigger.properties.url }}.",
                                          "track_links": True}))  # fmt: skip
    return found


def _digests(uow: UnitOfWork) -> dict[str, str]:
    settings = Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings'
        _env_file=None,
        database_url=uow.engine.url.render_as_string(hide_password=False),
        environment="test",
        secret_key="golden-secret",
        public_url="https://mail.tea.example",
        email_from="Tea Shop <news@tea.example>",
    )
    templates = _templates()
    with uow.transaction() as session:
        for cid, (email, attributes) in PEOPLE.items():
            session.execute(
                insert(Contact).values(
                    id=cid,
                    created_at=NOW,
                    updated_at=NOW,
                    attributes=attributes,
                    lifecycle_stage="customer",
                    score=0.0,
                    score_state={},
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
            )
            session.execute(
                insert(Identifier).values(contact_id=cid, kind="email", value=email, created_at=NOW)
            )
        for template_id, channel, body in templates:
            save(session, template_id, channel, body, now=NOW)
    requests, deliveries = [], {}
    with uow.transaction() as session:
        for number, (template_id, channel, _body) in enumerate(templates):
            for index, (cid, (email, attributes)) in enumerate(PEOPLE.items()):
                outbox_id = 1000 + number * 10 + index
                payload = {"trigger": {"event": "Checkout Started", "properties": TRIGGER}}
                session.execute(
                    insert(OutboxMessage).values(
                        id=outbox_id,
                        idempotency_key=f"golden:{outbox_id}",
                        contact_id=cid,
                        channel=channel,
                        template=template_id,
                        payload=payload,
                        status="pending",
                        not_before=NOW,
                        created_at=NOW,
                    )
                )
                requests.append(RenderRequest(outbox_id, template_id, cid, payload))
                recipient = {"email": email, **attributes}
                deliveries[outbox_id] = Delivery(
                    outbox_id, f"golden:{outbox_id}", cid, channel, template_id, payload, recipient
                )
    with uow.transaction() as session:
        rendered = render_many(session, settings, requests, now=NOW)
    sender = mailbox(settings.email_from)
    digests: dict[str, str] = {}
    for request in requests:
        content = rendered[request.outbox_id]
        assert isinstance(content, dict), (request.template_id, content)
        delivery = deliveries[request.outbox_id]
        if delivery.channel == "email":
            data = compose(
                Delivery(**{**vars(delivery), "content": content}), sender=sender, now=NOW
            ).data
        else:
            data = json.dumps(content, sort_keys=True, default=str).encode()
        key = f"{request.template_id} {request.contact_id}"
        digests[key] = hashlib.sha256(data).hexdigest()
    return digests


def test_every_shipped_template_gives_the_recorded_bytes(uow: UnitOfWork) -> None:
    found = _digests(uow)
    if os.environ.get("LEALTA_WRITE_DIGESTS"):
        DIGESTS.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(DIGESTS.read_text())
    changed = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    assert not changed, f"these messages are no longer the same bytes: {changed}"
    assert len(found) == len(_templates()) * len(PEOPLE)
