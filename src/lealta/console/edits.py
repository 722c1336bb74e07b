"""Changes made in the console: each goes through the same service as the API, is checked for
the CSRF token and the role's permission, and is written to the audit log with who made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.console.auth import SignedIn
from lealta.contacts import service
from lealta.contacts.schemas import Erasure
from lealta.privacy.erase import erase_contact
from lealta.privacy.export import export_contact
from lealta.storage.retry import in_transaction
from lealta.users.service import record
from lealta.users.tables import ConsoleUser


def _author(user: SignedIn) -> str:
    return f"console:{user.email}"


def change_tag(services: Services, user: SignedIn, contact_id: str, tag: str, *, add: bool) -> bool:
    """Add or remove ``tag``; False when nothing changed (already there, or already gone)."""
    now = services.clock.now()

    def work(session: Session) -> bool:
        contact = service.get_live(session, contact_id)
        if add:
            changed = service.add_tag(session, contact, tag, now=now, by=_author(user))
        else:
            changed = service.remove_tag(session, contact, tag, now=now, by=_author(user))
        if changed:
            action = "tag added" if add else "tag removed"
            audit(session, user, action, f"contact {contact.id}", now, {"tag": tag.strip()})
        return changed

    return in_transaction(services.uow, work)


def export_document(services: Services, user: SignedIn, contact_id: str) -> dict[str, Any]:
    """Everything held on the person (as ``GET /v1/contacts/{id}/export``), audited."""
    now = services.clock.now()

    def work(session: Session) -> dict[str, Any]:
        document = export_contact(session, contact_id, now=now)
        audit(session, user, "contact exported", f"contact {document['contact']['id']}", now)
        return document

    return in_transaction(services.uow, work)


def erase(services: Services, user: SignedIn, contact_id: str) -> Erasure:
    """Erase the person (as ``DELETE /v1/contacts/{id}``), audited without personal data."""
    now = services.clock.now()

    def work(session: Session) -> Erasure:
        done = erase_contact(session, contact_id, now=now)
        audit(session, user, "contact erased", f"contact {done.contact_id}", now)
        return done

    return in_transaction(services.uow, work)


def audit(
    session: Session,
    user: SignedIn,
    action: str,
    target: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write the change to the audit log, in the transaction that makes it."""
    author = session.get(ConsoleUser, user.user_id)
    if author is not None:
        record(session, user=author, action=action, target=target, detail=detail, now=now)
