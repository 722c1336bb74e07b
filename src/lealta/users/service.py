"""Console users and the audit log: create, list, disable, reset passwords, sign in, record."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.users.passwords import check_strength, dummy_hash, hash_password, verify_password
from lealta.users.roles import ROLES
from lealta.users.tables import AuditEntry, ConsoleUser

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Trimmed and lower case; ``InvalidInput`` when it is not an address."""
    cleaned = email.strip().lower()
    if len(cleaned) > 320 or not _EMAIL.match(cleaned):
        raise InvalidInput(f"{email!r} is not an e-mail address", field="email")
    return cleaned


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose {', '.join(ROLES)}", field="role")


def create_user(
    session: Session, *, email: str, role: str, password: str, now: dt.datetime
) -> ConsoleUser:
    """A new console user; ``Conflict`` when the e-mail is taken."""
    address = normalize_email(email)
    _check_role(role)
    check_strength(password)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == address)):
        raise Conflict(f"a console user with e-mail {address} exists")
    user = ConsoleUser(
        id=secrets.token_hex(8),
        email=address,
        role=role,
        password_hash=hash_password(password),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[ConsoleUser]:
    """Every console user, by e-mail."""
    return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.email)))


def count_users(session: Session) -> int:
    """How many console users exist (disabled ones included)."""
    return int(session.scalar(select(func.count()).select_from(ConsoleUser)) or 0)


def get_user(session: Session, who: str) -> ConsoleUser:
    """A user by id or e-mail; ``NotFound`` otherwise."""
    user = session.get(ConsoleUser, who)
    if user is None and "@" in who:
        user = session.scalar(select(ConsoleUser).where(ConsoleUser.email == who.strip().lower()))
    if user is None:
        raise NotFound(f"no console user {who!r}")
    return user


def generate_password() -> str:
    """A new random password (16 URL-safe characters, about 96 bits), to be shown once."""
    return secrets.token_urlsafe(12)


def count_admins(session: Session) -> int:
    """How many enabled admins there are."""
    query = select(func.count()).where(
        ConsoleUser.role == "admin", ConsoleUser.disabled_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def _keep_an_admin(session: Session, user: ConsoleUser, doing: str) -> None:
    """Refuse to take away the last enabled admin (nobody could manage users afterwards)."""
    if user.role == "admin" and user.disabled_at is None and count_admins(session) <= 1:
        raise Conflict(f"cannot {doing} {user.email}: they are the last admin")


def _not_yourself(user: ConsoleUser, acting: ConsoleUser | None, doing: str) -> None:
    if acting is not None and acting.id == user.id:
        raise Conflict(f"you cannot {doing} yourself; ask another admin")


def disable_user(
    session: Session, who: str, *, now: dt.datetime, acting: ConsoleUser | None = None
) -> ConsoleUser:
    """Stop a user from signing in; their open sessions end at their next request. Neither the
    last admin nor (``acting``) the user doing it can be disabled: ``Conflict``."""
    user = get_user(session, who)
    _not_yourself(user, acting, "disable")
    if user.disabled_at is None:
        _keep_an_admin(session, user, "disable")
        user.disabled_at = now
        user.session_epoch += 1
    return user


def enable_user(session: Session, who: str) -> ConsoleUser:
    """Let a disabled user sign in again."""
    user = get_user(session, who)
    user.disabled_at = None
    return user


def set_role(
    session: Session, who: str, role: str, *, acting: ConsoleUser | None = None
) -> ConsoleUser:
    """Change a user's role (effective at their next request). The last admin keeps the role,
    and (``acting``) nobody changes their own: ``Conflict``."""
    _check_role(role)
    user = get_user(session, who)
    if user.role == role:
        return user
    _not_yourself(user, acting, "change the role of")
    if role != "admin":
        _keep_an_admin(session, user, "demote")
    user.role = role
    return user


def reset_password(session: Session, who: str, password: str) -> ConsoleUser:
    """Set a new password; every session of the user ends."""
    check_strength(password)
    user = get_user(session, who)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    return user


def authenticate(
    session: Session, *, email: str, password: str, now: dt.datetime
) -> ConsoleUser | None:
    """The enabled user with this e-mail and password, or ``None`` (same work either way)."""
    address = email.strip().lower()
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.email == address))
    if user is None:
        verify_password(password, dummy_hash())
        return None
    ok, new_hash = verify_password(password, user.password_hash)
    if not ok or user.disabled_at is not None:
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_sign_in_at = now
    return user


def record(
    session: Session,
    *,
    user: ConsoleUser,
    action: str,
    now: dt.datetime,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write who did what to the audit log (in the caller's transaction, with the change)."""
    session.add(
        AuditEntry(
            at=now,
            user_id=user.id,
            user_email=user.email,
            action=action,
            target=target[:200],
            detail=detail or {},
        )
    )


def list_audit(
    session: Session,
    *,
    limit: int = 100,
    before: int | None = None,
    user_email: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """The newest audit entries first (``before``: an entry id, for the next page), of one
    user (by e-mail) and of one action when given."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if user_email:
        query = query.where(AuditEntry.user_email == user_email.strip().lower())
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def audit_actions(session: Session) -> list[str]:
    """The actions the audit log holds, alphabetically (a few dozen at most)."""
    rows = session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    return list(rows)
