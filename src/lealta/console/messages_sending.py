"""What the console changes for message templates, audited: a save (the same service as
``PUT /v1/templates/{id}``) and a test send (through the configured e-mail channel, never the
outbox: see :mod:`lealta.messages.testsend`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.console.auth import SignedIn
from lealta.console.edits import audit
from lealta.messages import service
from lealta.messages.testsend import Draft, TestSent, checked_address, send_test_with_settings
from lealta.storage.retry import in_transaction


def save_template(
    services: Services,
    user: SignedIn,
    template_id: str,
    channel: str,
    body: Mapping[str, Any],
    description: str,
) -> service.Saved:
    """Create or replace the template; the audit log says who, and which version it made.

    Raises ``TemplateInvalid`` with every problem (part and line) when the body has errors."""
    now = services.clock.now()

    def work(session: Session) -> service.Saved:
        saved = service.save(session, template_id, channel, body, description, now=now)
        if saved.changed:
            action = "template created" if saved.created else "template changed"
            detail = {"version": saved.template.version, "channel": channel}
            audit(session, user, action, f"template {template_id}", now, detail)
        return saved

    return in_transaction(services.uow, work)


def send_test_email(services: Services, user: SignedIn, draft: Draft, to: str) -> TestSent:
    """Send ``draft`` as a test to ``to``, then write it to the audit log.

    Raises ``InvalidInput`` (a bad address, not an e-mail template), ``Conflict`` (no e-mail
    channel) or a ``ChannelError`` (the relay refused)."""
    address = checked_address(to)
    sent = send_test_with_settings(services, draft, address)
    now = services.clock.now()

    def work(session: Session) -> None:
        detail = {"to": sent.to, "contact": draft.contact_id, "language": draft.language}
        audit(session, user, "template test sent", f"template {draft.template_id}", now, detail)

    in_transaction(services.uow, work)
    return sent
