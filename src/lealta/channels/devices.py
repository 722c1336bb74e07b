"""Push devices: FCM registration tokens and browser Web Push subscriptions, per contact.

A device is kept once, by the SHA-256 of its token (the Web Push endpoint for browsers):
registering it again refreshes it, moves it to the contact now using it (a phone handed to
someone else, a browser shared at home) and revives it if a provider had declared it gone.
When a provider answers that a token no longer exists, :func:`mark_invalid` sets
``invalid_at`` and the device is never sent to again (until it is registered anew).
Functions take a session and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lealta.channels.tables import PushDevice
from lealta.channels.webpush_crypto import read_subscription
from lealta.errors import InvalidInput

KINDS = ("fcm", "webpush")
MAX_TOKEN = 4096


def token_hash(token: str) -> str:
    """The SHA-256 (hex) a device is known by."""
    return hashlib.sha256(token.encode()).hexdigest()


def register(
    session: Session,
    *,
    contact_id: str,
    kind: str,
    token: str | None = None,
    subscription: Mapping[str, Any] | None = None,
    now: dt.datetime,
) -> PushDevice:
    """Add or refresh a device of ``contact_id``.

    ``kind`` ``fcm`` takes the registration ``token``; ``webpush`` takes the browser's
    ``subscription`` (``{endpoint, keys: {p256dh, auth}}``), whose endpoint becomes the token.
    ``InvalidInput`` names a bad field.
    """
    token, stored = _checked(kind, token, subscription)
    digest = token_hash(token)
    device = session.scalar(select(PushDevice).where(PushDevice.token_hash == digest))
    if device is None:
        device = PushDevice(
            contact_id=contact_id,
            kind=kind,
            token=token,
            token_hash=digest,
            subscription=stored,
            created_at=now,
            last_seen_at=now,
        )
        session.add(device)
    else:
        device.contact_id = contact_id
        device.kind = kind
        device.subscription = stored
        device.last_seen_at = now
        device.invalid_at = None
    session.flush()
    return device


def _checked(
    kind: str, token: str | None, subscription: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The token and the subscription to store, once checked."""
    if kind == "webpush":
        found = read_subscription(dict(subscription) if subscription is not None else None)
        if token and token != found.endpoint:
            raise InvalidInput("a browser's token is its subscription endpoint", field="token")
        keys = dict(subscription["keys"]) if subscription else {}
        return found.endpoint, {
            "endpoint": found.endpoint,
            "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
        }
    if kind == "fcm":
        if not token or not token.strip():
            raise InvalidInput("an FCM registration token is required", field="token")
        if len(token) > MAX_TOKEN or any(c.isspace() for c in token):
            raise InvalidInput("not an FCM registration token", field="token")
        return token, {}
    raise InvalidInput(f"unknown device kind {kind!r}; choose from fcm, webpush", field="kind")


def unregister(session: Session, *, token: str) -> bool:
    """Forget the device with ``token`` (an app signed out, a browser unsubscribed)."""
    result = session.execute(
        delete(PushDevice)
        .where(PushDevice.token_hash == token_hash(token))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def active_for(
    session: Session, contact_ids: Sequence[str], kind: str
) -> dict[str, list[PushDevice]]:
    """The devices of ``kind`` still valid, per contact (oldest first), in one query."""
    found: dict[str, list[PushDevice]] = {}
    if not contact_ids:
        return found
    rows = session.scalars(
        select(PushDevice)
        .where(
            PushDevice.contact_id.in_(sorted(set(contact_ids))),
            PushDevice.kind == kind,
            PushDevice.invalid_at.is_(None),
        )
        .order_by(PushDevice.id)
    )
    for row in rows:
        found.setdefault(row.contact_id, []).append(row)
    return found


def mark_invalid(session: Session, digest: str, now: dt.datetime) -> bool:
    """Declare the device with token hash ``digest`` gone; False if it already was (or is
    unknown)."""
    result = session.execute(
        update(PushDevice)
        .where(PushDevice.token_hash == digest, PushDevice.invalid_at.is_(None))
        .values(invalid_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
