"""The suppression list: addresses no message may go to on a channel, whoever the contact is.

A hard bounce, a spam complaint, an SMS ``STOP``, a device token the push service says is gone
or a manual entry puts an address here. Unlike consent, which belongs to a contact, a
suppression belongs to the address: it still holds after the address moves to another
profile, and the dispatcher checks it at the moment of sending.

Addresses are compared in a normal form (:func:`normal_address`): e-mail trimmed and
lower-cased, phone numbers in E.164, anything else (device tokens, endpoints) as given.
There is one row per (channel, address); suppressing again keeps the first reason and source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lealta.channels.tables import Suppression
from lealta.errors import InvalidInput
from lealta.identity.normalize import normalize_email, normalize_phone
from lealta.storage.upsert import insert_ignoring

# Reasons other modules use; any short word is accepted.
REASONS = ("bounce", "complaint", "unsubscribe", "stop", "invalid_token", "manual")
MAX_LIST = 1000


def normal_address(channel: str, address: str) -> str:
    """``address`` as suppressions store it on ``channel``."""
    text = address.strip()
    if not text:
        raise InvalidInput("the address is empty", field="address")
    try:
        if channel == "email":
            return normalize_email(text)
        if channel == "sms":
            return normalize_phone(text)
    except InvalidInput:
        return text.lower() if channel == "email" else text
    return text


def suppress(
    session: Session,
    *,
    channel: str,
    address: str,
    reason: str,
    source: str,
    details: Mapping[str, Any] | None = None,
    at: dt.datetime,
) -> Suppression:
    """Stop every message to ``address`` on ``channel``; the row in force (idempotent)."""
    _check(channel, 32, "channel")
    _check(reason, 32, "reason")
    _check(source, 64, "source")
    normal = normal_address(channel, address)
    _check(normal, 2048, "address")
    row = {
        "channel": channel,
        "address": normal,
        "reason": reason,
        "source": source,
        "details": dict(details or {}),
        "created_at": at,
    }
    insert_ignoring(session, Suppression.__table__, [row], conflict=["channel", "address"])
    found = get(session, channel, normal)
    assert found is not None  # inserted now or before
    return found


def get(session: Session, channel: str, address: str) -> Suppression | None:
    """The suppression of ``address`` on ``channel``, if any."""
    return session.scalar(
        select(Suppression).where(
            Suppression.channel == channel,
            Suppression.address == normal_address(channel, address),
        )
    )


def is_suppressed(session: Session, channel: str, address: str) -> bool:
    """Whether messages to ``address`` on ``channel`` are suppressed."""
    return get(session, channel, address) is not None


def unsuppress(session: Session, channel: str, address: str) -> bool:
    """Lift the suppression of ``address`` on ``channel``; whether there was one."""
    result = session.execute(
        delete(Suppression)
        .where(
            Suppression.channel == channel,
            Suppression.address == normal_address(channel, address),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def list_(
    session: Session,
    *,
    channel: str | None = None,
    reason: str | None = None,
    limit: int = 100,
) -> list[Suppression]:
    """Suppressions, newest first, optionally of one channel or reason."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}", field="limit")
    query = select(Suppression).order_by(Suppression.id.desc()).limit(limit)
    if channel is not None:
        query = query.where(Suppression.channel == channel)
    if reason is not None:
        query = query.where(Suppression.reason == reason)
    return list(session.scalars(query))


def _check(value: str, longest: int, field: str) -> None:
    if not value or len(value) > longest:
        raise InvalidInput(f"{field} must be 1 to {longest} characters", field=field)
