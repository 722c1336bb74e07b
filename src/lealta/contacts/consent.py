"""Consent per channel: recording decisions and reading the one in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.contacts.tables import CHANNELS, CONSENT_STATUSES, Consent
from lealta.errors import InvalidInput


def record_consent(
    session: Session,
    contact_id: str,
    channel: str,
    status: str,
    *,
    source: str,
    at: dt.datetime,
    proof: Mapping[str, Any] | None = None,
) -> Consent:
    """Record a decision (``granted``, ``denied`` or ``pending`` double opt-in) for a channel."""
    if channel not in CHANNELS:
        raise InvalidInput(
            f"unknown channel {channel!r}; choose from {', '.join(CHANNELS)}", field="channel"
        )
    if status not in CONSENT_STATUSES:
        raise InvalidInput(
            f"unknown consent status {status!r}; choose from {', '.join(CONSENT_STATUSES)}",
            field="status",
        )
    row = Consent(
        contact_id=contact_id,
        channel=channel,
        status=status,
        source=source,
        proof=dict(proof or {}),
        recorded_at=at,
    )
    session.add(row)
    session.flush()
    return row


def consents_in_force(session: Session, contact_id: str) -> dict[str, Consent]:
    """The newest decision per channel (channels never decided are absent: no consent)."""
    rows = session.scalars(
        select(Consent).where(Consent.contact_id == contact_id).order_by(Consent.id)
    )
    return {row.channel: row for row in rows}


def may_contact(session: Session, contact_id: str, channel: str) -> bool:
    """True only when the newest decision for ``channel`` is ``granted``."""
    current = consents_in_force(session, contact_id).get(channel)
    return current is not None and current.status == "granted"
