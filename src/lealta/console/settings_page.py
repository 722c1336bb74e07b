"""The settings page (admins): API keys (create, shown once; revoke), console users (create,
change role, disable or enable, reset password; a password is shown once), which channels are
switched on and whether they work, and the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels.registry import ENABLED_BY, switched_on
from lealta.channels.tables import OutboxMessage
from lealta.console.auth import SignedIn
from lealta.console.edits import audit
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.keys.service import IssuedKey, create_key, list_keys, revoke_key
from lealta.storage.retry import in_transaction
from lealta.users import service as users
from lealta.users.roles import ROLES
from lealta.users.tables import ConsoleUser

HEALTH_WINDOW = dt.timedelta(days=7)
RECENT_CHANGES = 10


@dataclass(frozen=True)
class ShownOnce:
    """A password just set, shown this once (nobody can read it back)."""

    email: str
    password: str
    created: bool


@dataclass(frozen=True)
class ChannelHealth:
    """A channel's setting and how its sends went in the last 7 days.

    ``state`` is ``working`` (its last outcome was a send), ``failing`` (failures since its last
    send; ``since`` the first of them, ``reason`` the last one's) or ``unused`` (neither)."""

    name: str
    on: bool
    enabled_by: str
    state: str
    last_sent: dt.datetime | None = None
    since: dt.datetime | None = None
    reason: str = ""


def channel_health(session: Session, name: str, *, on: bool, now: dt.datetime) -> ChannelHealth:
    """Whether ``name`` works, from its outbox rows of the last 7 days.

    Each look-up walks the outbox's (status, not_before) index from its newest end and stops at
    the first row of this channel, so a busy outbox costs no more than a quiet one."""
    start = now - HEALTH_WINDOW
    sent = session.execute(
        _newest("sent", name, start).with_only_columns(
            OutboxMessage.sent_at, OutboxMessage.not_before
        )
    ).first()
    last_sent = sent.sent_at if sent is not None else None
    failed = session.execute(
        _newest("failed", name, start).with_only_columns(
            OutboxMessage.id, OutboxMessage.not_before, OutboxMessage.error
        )
    ).first()
    health = ChannelHealth(name, on, ENABLED_BY[name], "unused", last_sent=last_sent)
    if failed is None or (sent is not None and sent.not_before >= failed.not_before):
        return replace(health, state="working" if sent is not None else "unused")
    after = sent.not_before if sent is not None else start
    first_id = session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "failed",
            OutboxMessage.not_before > after,
            OutboxMessage.channel == name,
        )
        .order_by(OutboxMessage.not_before)
        .limit(1)
    )
    return replace(
        health,
        state="failing",
        since=_failed_at(session, first_id if first_id is not None else failed.id)
        or failed.not_before,
        reason=(failed.error or "no reason recorded")[:300],
    )


def _newest(status: str, channel: str, start: dt.datetime) -> Any:
    return (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == status,
            OutboxMessage.not_before >= start,
            OutboxMessage.channel == channel,
        )
        .order_by(OutboxMessage.not_before.desc())
        .limit(1)
    )


def _failed_at(session: Session, outbox_id: int) -> dt.datetime | None:
    """When a message failed: its "Message Failed" event (unique message id, an index seek)."""
    return session.scalar(
        select(Event.occurred_at).where(Event.message_id == f"outbox:{outbox_id}:failed")
    )


def settings_context(services: Services, **shown: Any) -> dict[str, Any]:
    """Everything ``settings.html`` shows; ``shown``: what was just done (``issued`` key,
    ``password`` shown once, ``notice``, ``problem``)."""
    now = services.clock.now()
    on = switched_on(services.settings)
    with services.uow.transaction() as session:
        channels = [channel_health(session, name, on=on[name], now=now) for name in ENABLED_BY]
        keys = list_keys(session)
        people = users.list_users(session)
        recent = users.list_audit(session, limit=RECENT_CHANGES)
        session.expunge_all()
    return {
        "keys": keys,
        "users": people,
        "roles": ROLES,
        "channels": channels,
        "audit": recent,
        "issued": None,
        "password": None,
        "notice": "",
        "problem": "",
        **shown,
    }


def new_key(services: Services, user: SignedIn, *, scope: str, name: str) -> IssuedKey:
    """Create an API key (audited); the plain key exists only in the answer."""
    now = services.clock.now()

    def work(session: Session) -> IssuedKey:
        issued = create_key(session, scope=scope, name=name.strip()[:200], now=now)
        audit(session, user, "key created", f"key {issued.key_id} ({scope})", now)
        return issued

    return in_transaction(services.uow, work)


def end_key(services: Services, user: SignedIn, key_id: str) -> None:
    """Revoke an API key (audited)."""
    now = services.clock.now()

    def work(session: Session) -> None:
        revoke_key(session, key_id, now=now)
        audit(session, user, "key revoked", f"key {key_id}", now)

    in_transaction(services.uow, work)


def chosen_password(typed: str, again: str) -> tuple[str, bool]:
    """The password to set and whether it was generated: a typed one must be typed twice
    alike; none typed means a generated one."""
    if not typed and not again:
        return users.generate_password(), True
    if typed != again:
        raise InvalidInput("the two passwords differ; type the same one twice", field="password")
    return typed, False


def new_user(
    services: Services, user: SignedIn, *, email: str, role: str, typed: str, again: str
) -> ShownOnce:
    """Create a console user (audited); a generated password is shown once."""
    now = services.clock.now()
    password, generated = chosen_password(typed, again)

    def work(session: Session) -> ShownOnce:
        made = users.create_user(session, email=email, role=role, password=password, now=now)
        audit(session, user, "user created", f"user {made.email}", now, {"role": role})
        return ShownOnce(made.email, password if generated else "", created=True)

    return in_transaction(services.uow, work)


def _acting(session: Session, user: SignedIn) -> ConsoleUser | None:
    return session.get(ConsoleUser, user.user_id)


def change_role(services: Services, user: SignedIn, who: str, role: str) -> str:
    """Give ``who`` another role (audited); what was done, in words."""
    now = services.clock.now()

    def work(session: Session) -> str:
        before = users.get_user(session, who).role
        changed = users.set_role(session, who, role, acting=_acting(session, user))
        if before == role:
            return f"{changed.email} already is a {role}."
        detail = {"from": before, "to": role}
        audit(session, user, "role changed", f"user {changed.email}", now, detail)
        return f"{changed.email} is now a {role} (was a {before}); it applies at their next click."

    return in_transaction(services.uow, work)


def switch_user(services: Services, user: SignedIn, who: str, *, enable: bool) -> str:
    """Disable or enable ``who`` (audited); what was done, in words."""
    now = services.clock.now()

    def work(session: Session) -> str:
        if enable:
            changed = users.enable_user(session, who)
            audit(session, user, "user enabled", f"user {changed.email}", now)
            return f"{changed.email} can sign in again."
        changed = users.disable_user(session, who, now=now, acting=_acting(session, user))
        audit(session, user, "user disabled", f"user {changed.email}", now)
        return f"{changed.email} is disabled: signed out now, and cannot sign in."

    return in_transaction(services.uow, work)


def new_password(services: Services, user: SignedIn, who: str) -> ShownOnce:
    """Give ``who`` a generated password (audited), shown once; their sessions end."""
    now = services.clock.now()
    password = users.generate_password()

    def work(session: Session) -> ShownOnce:
        changed = users.reset_password(session, who, password)
        audit(session, user, "password reset", f"user {changed.email}", now)
        return ShownOnce(changed.email, password, created=False)

    return in_transaction(services.uow, work)
