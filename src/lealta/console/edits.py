"""Changes made in the console: each goes through the same service as the API, is checked for
the CSRF token and the role's permission, and is written to the audit log with who made it."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy.orm import Session

from lealta.automations import signals
from lealta.bootstrap import Services
from lealta.console.auth import SignedIn
from lealta.contacts import service
from lealta.contacts.schemas import ContactPatch, Erasure
from lealta.contacts.timeline_kinds import ATTRIBUTE_CHANGED, LIST_LEFT, LIST_PENDING
from lealta.errors import InvalidInput
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


def change_consent(
    services: Services, user: SignedIn, contact_id: str, channel: str, *, grant: bool
) -> None:
    """Grant or withdraw consent for ``channel`` (as ``PUT /v1/contacts/{id}/consent/{channel}``);
    the decision's source is ``console`` and its proof names who made it."""
    now = services.clock.now()
    status = "granted" if grant else "denied"

    def work(session: Session) -> None:
        contact = service.get_live(session, contact_id)
        proof = {"by": _author(user)}
        service.set_consent(
            session, contact, channel, status, source="console", proof=proof, now=now
        )
        detail = {"channel": channel, "status": status}
        audit(session, user, "consent changed", f"contact {contact.id}", now, detail)

    in_transaction(services.uow, work)


def change_list(
    services: Services, user: SignedIn, contact_id: str, slug: str, *, join: bool
) -> str:
    """Subscribe to (pending on a double opt-in list) or unsubscribe from list ``slug`` (as
    ``PUT``/``DELETE /v1/contacts/{id}/lists/{slug}``); answers the membership's status. The
    timeline shows ``List Joined``, ``List Confirmation Pending`` or ``List Left`` with who."""
    now = services.clock.now()
    by = _author(user)

    def work(session: Session) -> str:
        contact = service.get_live(session, contact_id)
        if join:
            status = service.join_list(
                session, contact, slug, source=by, confirmed=False, now=now
            ).status
            if status == "pending":
                _signal(session, contact.id, LIST_PENDING, {"list": slug}, by, now)
        else:
            service.leave_list(session, contact, slug, now=now)
            status = "unsubscribed"
            _signal(session, contact.id, LIST_LEFT, {"list": slug}, by, now)
        detail = {"list": slug, "status": status}
        audit(session, user, "list changed", f"contact {contact.id}", now, detail)
        return status

    return in_transaction(services.uow, work)


def change_attribute(
    services: Services, user: SignedIn, contact_id: str, name: str, value: str | None
) -> None:
    """Set attribute ``name`` (typed as declared: ``42`` for an integer, ``yes`` for a
    boolean …) or, with ``value`` None, remove it, as ``PATCH /v1/contacts/{id}`` does.

    Raises ``InvalidInput`` naming the attribute when the value does not fit its type."""
    now = services.clock.now()
    name = name.strip()
    if not name:
        raise InvalidInput("say which attribute to change", field="name")
    if value is not None and not value.strip():
        raise InvalidInput(
            f"give {name} a value, or remove it with the Remove button", field=f"attributes.{name}"
        )
    region = services.settings.default_phone_region

    def work(session: Session) -> None:
        contact = service.get_live(session, contact_id)
        given = None if value is None else value.strip()
        service.update(
            session, contact, ContactPatch(attributes={name: given}), now=now, region=region
        )
        stored = contact.attributes.get(name)
        _signal(
            session,
            contact.id,
            ATTRIBUTE_CHANGED,
            {"attribute": name, "value": stored},
            _author(user),
            now,
        )
        detail = {"attribute": name, "removed": value is None}
        audit(session, user, "attribute changed", f"contact {contact.id}", now, detail)

    in_transaction(services.uow, work)


def _signal(
    session: Session,
    contact_id: str,
    name: str,
    properties: dict[str, Any],
    by: str,
    now: dt.datetime,
) -> None:
    """An event on the person's timeline saying what a console user changed."""
    what = hashlib.sha256(repr((name, sorted(properties.items()))).encode()).hexdigest()[:16]
    key = f"console:{contact_id}:{now.isoformat()}:{what}"
    signals.emit(session, contact_id, name, {**properties, "by": by}, key=key, now=now)


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
