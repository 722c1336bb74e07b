"""People: a contact found or created by its identifiers, with consents, attributes, tags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from lealta.contacts.consent import record_consent
from lealta.contacts.service import add_tag
from lealta.contacts.tables import Contact
from lealta.identity.service import resolve


def granted(*channels: str) -> dict[str, str]:
    """Consent granted for each of ``channels`` (the ``consents`` of :func:`person`)."""
    return dict.fromkeys(channels, "granted")


def person(
    session: Session,
    at: dt.datetime,
    *,
    identifiers: Mapping[str, str] | None = None,
    email: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    consents: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
    tags: Iterable[str] = (),
    **columns: Any,
) -> Contact:
    """The contact owning these identifiers (resolved as tracking does, created when new),
    with ``consents`` (channel → ``granted``, ``denied`` or ``pending``) recorded, its
    ``attributes`` replaced when given, and tagged with ``tags`` — all ``at``; ``columns``
    set other fields of the contact as they are (``lifecycle_stage``, ``score``,
    ``last_seen_at`` …), as the engines that own them would have left them."""
    known = {"email": email, "user_id": user_id, "anonymous_id": anonymous_id}
    wanted = {**(identifiers or {}), **{k: v for k, v in known.items() if v is not None}}
    contact = resolve(session, wanted, at)
    if attributes is not None:
        contact.attributes = dict(attributes)
    for name, value in columns.items():
        if name not in Contact.__table__.columns:
            raise TypeError(f"a contact has no column {name!r}")
        setattr(contact, name, value)
    for channel, status in (consents or {}).items():
        record_consent(session, contact.id, channel, status, source="test", at=at)
    for tag in tags:
        add_tag(session, contact, tag, now=at)
    return contact
