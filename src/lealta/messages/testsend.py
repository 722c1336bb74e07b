"""Test sends and previews: a template rendered exactly as it will be sent, for no real message.

A real message is an outbox row: its id is signed into every tracked link, the open pixel and
the unsubscribe link, and reports count the rows sent (:mod:`lealta.feedback.reports`). A
preview or a test send has no outbox row. It is rendered for :data:`NO_MESSAGE` (id ``0``,
which no outbox row ever has: ids start at 1), so its links have the very shape, UTM
parameters and signing of the ones people will get, but following them records nothing (the
link handlers find no message ``0`` and log it), and nothing is counted in any report.

A test send goes straight through the e-mail channel, never through the outbox: it waits for
no dispatcher, skips consent, quiet hours and frequency caps (it is not for a contact: it goes
to the address the marketer typed), and uses no contact's quota. It is marked as a test: the
subject starts with ``[Test]`` and the message carries ``X-Lealta-Test: yes``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels.base import Channel, Delivery
from lealta.channels.email import EmailChannel, mailbox
from lealta.channels.registry import switched_on
from lealta.config import Settings
from lealta.contacts.tables import Contact
from lealta.errors import Conflict, InvalidInput
from lealta.messages.model import normalize_channel
from lealta.messages.problems import TemplateInvalid
from lealta.messages.service import get, render_body
from lealta.messages.validate import check
from lealta.vouchers.tables import Voucher

NO_MESSAGE = 0
TEST_PREFIX = "[Test] "
TEST_HEADER = "X-Lealta-Test"


@dataclass(frozen=True)
class Draft:
    """What to render: a template's channel and body (saved or not), for whom, in which
    language (``None``: the contact's own)."""

    template_id: str
    channel: str
    body: Mapping[str, Any]
    contact_id: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class TestSent:
    """A test send that the SMTP relay accepted."""

    to: str
    subject: str
    message_id: str


def draft_of(
    session: Session,
    template_id: str,
    *,
    channel: str | None = None,
    body: Mapping[str, Any] | None = None,
    contact_id: str | None = None,
    language: str | None = None,
) -> Draft:
    """The stored template ``template_id``, or ``body`` (an unsaved edit) under its id.

    Raises
    ------
    NotFound
        No such template (and no ``body`` given with its ``channel``).
    TemplateInvalid
        ``body`` has errors (every problem with its part and line).
    """
    if body is None:
        stored = get(session, template_id)
        return Draft(template_id, stored.channel, stored.body, contact_id, language)
    kind = normalize_channel(channel or get(session, template_id).channel)
    problems = check(kind, body)
    if any(p.severity == "error" for p in problems):
        raise TemplateInvalid(problems)
    return Draft(template_id, kind, body, contact_id, language)


def sample_payload(session: Session, contact_id: str | None, now: dt.datetime) -> dict[str, Any]:
    """What a journey would pass that a preview can know: the contact's newest open voucher
    (at send time, the voucher the journey issued)."""
    if contact_id is None:
        return {}
    code = session.scalar(
        select(Voucher.code)
        .where(
            Voucher.contact_id == contact_id,
            Voucher.redeemed_at.is_(None),
            or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
        )
        .order_by(Voucher.issued_at.desc(), Voucher.code)
        .limit(1)
    )
    return {"voucher": code} if code else {}


def as_sent(
    session: Session, settings: Settings, draft: Draft, *, now: dt.datetime
) -> dict[str, Any]:
    """``draft`` rendered and tracked exactly as it will be sent (links signed for
    :data:`NO_MESSAGE`, so nothing they lead to is recorded).

    Raises
    ------
    NotFound
        The contact is not a live contact.
    RenderError
        Rendering failed (part and line named).
    """
    return render_body(
        session,
        settings,
        channel=draft.channel,
        body=draft.body,
        template_id=draft.template_id,
        contact_id=draft.contact_id,
        outbox_id=NO_MESSAGE,
        payload=sample_payload(session, draft.contact_id, now),
        now=now,
        language=draft.language,
    )


def sample_contact(session: Session) -> str | None:
    """The contact a preview uses when none is chosen: the one seen most recently, else the
    newest one; ``None`` when there are no contacts. Two indexed look-ups at most."""
    live = (Contact.erased_at.is_(None), Contact.merged_into.is_(None))
    seen = session.scalar(
        select(Contact.id)
        .where(*live, Contact.last_seen_at.is_not(None))
        .order_by(Contact.last_seen_at.desc())
        .limit(1)
    )
    if seen is not None:
        return seen
    return session.scalar(
        select(Contact.id).where(*live).order_by(Contact.created_at.desc()).limit(1)
    )


def checked_address(text: str) -> str:
    """The address a test goes to, checked; InvalidInput (field ``to``) when it is not one."""
    given = (text or "").strip()
    if not given:
        raise InvalidInput("type the e-mail address the test should go to", field="to")
    try:
        return mailbox(given).address
    except ValueError:
        raise InvalidInput(f"{given!r} is not an e-mail address", field="to") from None


def delivery_of(draft: Draft, parts: Mapping[str, Any], to: str) -> Delivery:
    """The delivery of a test: ``[Test]`` subject, the test header, a key of its own."""
    if draft.channel != "email":
        raise InvalidInput(
            f"test sends are for e-mail templates; this one is for {draft.channel}",
            field="channel",
        )
    content = dict(parts)
    content["subject"] = TEST_PREFIX + str(content.get("subject") or "")
    content["headers"] = {**(content.get("headers") or {}), TEST_HEADER: "yes"}
    return Delivery(
        outbox_id=NO_MESSAGE,
        idempotency_key=f"test:{uuid.uuid4().hex}",
        contact_id=draft.contact_id or "",
        channel="email",
        template=draft.template_id,
        recipient={"email": to},
        content=content,
    )


def send_test(channel: Channel | None, delivery: Delivery) -> TestSent:
    """Send ``delivery`` through ``channel`` (the configured e-mail channel).

    Raises
    ------
    Conflict
        No e-mail channel is configured.
    ChannelError
        The relay refused or could not be reached.
    """
    if channel is None:
        raise Conflict(
            "no e-mail channel is configured, so a test cannot be sent: set LEALTA_SMTP_HOST "
            "(and the other LEALTA_SMTP_* settings) and restart Lealta"
        )
    message_id = channel.send(delivery)
    return TestSent(str(delivery.recipient["email"]), str(delivery.content["subject"]), message_id)


def send_test_with_settings(
    services: Services, draft: Draft, to: str, *, channel: Channel | None = None
) -> TestSent:
    """Render ``draft`` as it will be sent and send it as a test to ``to`` through ``channel``,
    by default the e-mail channel the settings configure (opened for this one message).

    Raises
    ------
    InvalidInput
        ``to`` is not an address, or the template is not an e-mail.
    RenderError
        The template cannot be rendered for the contact (part and line named).
    Conflict
        No e-mail channel is configured.
    ChannelError
        The relay refused or could not be reached.
    """
    address = checked_address(to)
    with services.uow.transaction() as session:
        parts = as_sent(session, services.settings, draft, now=services.clock.now())
    delivery = delivery_of(draft, parts, address)
    if channel is not None:
        return send_test(channel, delivery)
    if not switched_on(services.settings)["email"]:
        return send_test(None, delivery)
    with EmailChannel.from_settings(services.settings, clock=services.clock) as email:
        return send_test(email, delivery)
