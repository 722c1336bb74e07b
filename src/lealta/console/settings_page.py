"""The settings page (admins): API keys (create, shown once; revoke), console users, and which
channels are switched on, with what switches the others on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.channels.registry import ENABLED_BY, switched_on
from lealta.console.auth import SignedIn
from lealta.console.edits import audit
from lealta.feedback.reports import message_report
from lealta.keys.service import IssuedKey, create_key, list_keys, revoke_key
from lealta.storage.retry import in_transaction
from lealta.users.service import list_audit, list_users


def settings_context(services: Services, *, issued: IssuedKey | None = None) -> dict[str, Any]:
    """Everything ``settings.html`` shows (``issued``: a key just created, shown this once)."""
    now = services.clock.now()
    on = switched_on(services.settings)
    with services.uow.transaction() as session:
        sent = {
            row.label: row.sent
            for row in message_report(
                session, by="channel", since=now - dt.timedelta(days=30), until=now
            )
        }
        keys = list_keys(session)
        users = list_users(session)
        audit = list_audit(session, limit=20)
        session.expunge_all()
    channels = [
        {"name": name, "on": on[name], "enabled_by": ENABLED_BY[name], "sent": sent.get(name, 0)}
        for name in ENABLED_BY
    ]
    return {"keys": keys, "users": users, "channels": channels, "issued": issued, "audit": audit}


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
