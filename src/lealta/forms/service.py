"""Sign-up forms: defining them, taking submissions, confirming double opt-ins.

A submission does everything in the caller's transaction: it resolves the person at once (so
the list membership and consent have someone to belong to), subscribes them to the form's
list, records consent per ticked channel with its proof, and enqueues an ``identify`` and a
``Form Submitted`` message in the tracking inbox, so profiles, lifecycle and scoring follow
the one pipeline every other event takes. Services never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta import __version__
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import CHANNELS, ContactList, ListMembership
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.forms.fields import Submission, parse_submission, submission_key
from lealta.forms.tables import Form
from lealta.forms.tokens import read_confirmation, sign_confirmation
from lealta.identity.service import resolve, survivor
from lealta.tracking.intake import store
from lealta.tracking.messages import normalize

SUBMITTED = "Form Submitted"
CONFIRMED = "Subscription Confirmed"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class Visitor:
    """Who is submitting: the proof recorded with consent, and the browser's anonymous id."""

    ip: str | None = None
    user_agent: str | None = None
    page: str | None = None
    anonymous_id: str | None = None

    def proof(self, slug: str, field: str, at: dt.datetime) -> dict[str, Any]:
        """The evidence kept with a consent decision."""
        return {
            "ip": self.ip,
            "user_agent": self.user_agent,
            "form": slug,
            "page": self.page,
            field: _iso(at),
        }


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission.

    ``status`` is ``pending`` while a double opt-in awaits confirmation, else ``subscribed``;
    ``confirmation_token`` is set when something is pending; ``dropped`` when the honeypot
    caught a bot (answered as if fine, nothing stored).
    """

    status: str
    contact_id: str | None = None
    confirmation_token: str | None = None
    dropped: bool = False


# -- defining forms ----------------------------------------------------------------------------


def create(
    session: Session,
    *,
    slug: str,
    name: str = "",
    list_slug: str | None = None,
    double_opt_in: bool = False,
    consent_channels: Sequence[str] = (),
    redirect_url: str | None = None,
    now: dt.datetime,
) -> Form:
    """Create a form; its list (by slug) is created too when missing, with ``double_opt_in``."""
    if not _SLUG.match(slug):
        raise InvalidInput(
            "slug must be 1-100 lower-case letters, digits, '-' or '_'", field="slug"
        )
    unknown = [c for c in consent_channels if c not in CHANNELS]
    if unknown:
        raise InvalidInput(
            f"unknown channel {unknown[0]!r}; choose from {', '.join(CHANNELS)}",
            field="consent_channels",
        )
    if redirect_url is not None and not _web_url(redirect_url):
        raise InvalidInput("redirect_url must be an http(s) URL", field="redirect_url")
    if session.get(Form, slug) is not None:
        raise Conflict(f"a form {slug!r} already exists")
    listed = _list(session, list_slug, double_opt_in, now) if list_slug else None
    form = Form(
        slug=slug,
        name=name,
        list_id=listed.id if listed else None,
        double_opt_in=double_opt_in,
        consent_channels=list(dict.fromkeys(consent_channels)),
        redirect_url=redirect_url,
        created_at=now,
    )
    session.add(form)
    session.flush()
    return form


def get(session: Session, slug: str) -> Form:
    """The form ``slug``; ``NotFound`` if there is none."""
    form = session.get(Form, slug)
    if form is None:
        raise NotFound(f"no form {slug!r}")
    return form


def list_(session: Session) -> list[Form]:
    """Every form, by slug."""
    return list(session.scalars(select(Form).order_by(Form.slug)))


def list_slug(session: Session, form: Form) -> str | None:
    """The slug of the list ``form`` subscribes to, if any."""
    if form.list_id is None:
        return None
    return session.scalar(select(ContactList.slug).where(ContactList.id == form.list_id))


def _list(session: Session, slug: str, double_opt_in: bool, now: dt.datetime) -> ContactList:
    found = session.scalar(select(ContactList).where(ContactList.slug == slug))
    if found is not None:
        return found
    if not _SLUG.match(slug):
        raise InvalidInput(
            "list must be a slug: lower-case letters, digits, '-', '_'", field="list"
        )
    listed = ContactList(slug=slug, name=slug, double_opt_in=double_opt_in, created_at=now)
    session.add(listed)
    session.flush()
    return listed


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# -- submissions -------------------------------------------------------------------------------


def submit(
    session: Session,
    form: Form,
    fields: Mapping[str, str],
    *,
    visitor: Visitor,
    now: dt.datetime,
    secret: str,
    region: str,
) -> Submitted:
    """Take one submission of ``form``; ``InvalidInput`` names a bad e-mail or phone field."""
    submission = parse_submission(fields, channels=form.consent_channels, region=region)
    wanted = "pending" if form.double_opt_in else "subscribed"
    if submission.trap:
        return Submitted(wanted, dropped=True)
    anonymous_id = visitor.anonymous_id or submission.anonymous_id
    contact = resolve(
        session,
        {"email": submission.email, "phone": submission.phone, "anonymous_id": anonymous_id},
        now,
    )
    pending = _subscribe(session, form, contact.id, wanted, now) == "pending"
    for channel in submission.consents:
        pending |= _consent(session, form, contact.id, channel, visitor, now) == "pending"
    status = "pending" if pending else "subscribed"
    token = None
    if pending:
        token = sign_confirmation(secret, slug=form.slug, contact_id=contact.id, issued_at=now)
    _enqueue_submission(
        session, form, submission, anonymous_id or contact.id, visitor, status, token, now
    )
    return Submitted(status, contact.id, token)


def _subscribe(
    session: Session, form: Form, contact_id: str, wanted: str, now: dt.datetime
) -> str | None:
    if form.list_id is None:
        return None
    row = session.get(ListMembership, (form.list_id, contact_id))
    if row is None:
        session.add(
            ListMembership(
                list_id=form.list_id,
                contact_id=contact_id,
                status=wanted,
                source=f"form:{form.slug}",
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()
        return wanted
    if row.status == "subscribed":  # already confirmed: signing up again changes nothing
        return row.status
    row.status, row.source, row.updated_at = wanted, f"form:{form.slug}", now
    return wanted


def _consent(
    session: Session, form: Form, contact_id: str, channel: str, visitor: Visitor, now: dt.datetime
) -> str:
    target = "pending" if form.double_opt_in else "granted"
    current = consents_in_force(session, contact_id).get(channel)
    if current is not None and current.status in (target, "granted"):
        return current.status  # a repeat, or already granted: nothing new to record
    record_consent(
        session,
        contact_id,
        channel,
        target,
        source=f"form:{form.slug}",
        at=now,
        proof=visitor.proof(form.slug, "submitted_at", now),
    )
    return target


def _enqueue_submission(
    session: Session,
    form: Form,
    submission: Submission,
    anonymous_id: str,
    visitor: Visitor,
    status: str,
    token: str | None,
    now: dt.datetime,
) -> None:
    key = submission_key(form.slug, submission, now)
    known = {k: v for k, v in (("email", submission.email), ("phone", submission.phone)) if v}
    context = _context(visitor, traits=known)
    properties: dict[str, Any] = {"form": form.slug, "list": list_slug(session, form)}
    properties["status"] = status
    if token:
        properties["confirmation_token"] = token
    messages = [
        {"type": "identify", "messageId": f"form-{key}-identify", "traits": submission.traits},
        {
            "type": "track",
            "messageId": f"form-{key}-track",
            "event": SUBMITTED,
            "properties": properties,
        },
    ]
    _store(session, messages, anonymous_id, context, now)


def _context(visitor: Visitor, *, traits: Mapping[str, str]) -> dict[str, Any]:
    context: dict[str, Any] = {"library": {"name": "lealta-forms", "version": __version__}}
    if visitor.ip:
        context["ip"] = visitor.ip
    if visitor.user_agent:
        context["userAgent"] = visitor.user_agent
    if visitor.page:
        context["page"] = {"url": visitor.page}
    if traits:
        context["traits"] = dict(traits)
    return context


def _store(
    session: Session,
    messages: Sequence[dict[str, Any]],
    anonymous_id: str,
    context: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    common = {"anonymousId": anonymous_id, "timestamp": _iso(now), "context": dict(context)}
    checked = [normalize({**common, **message}, received_at=now) for message in messages]
    store(session, checked, received_at=now)


# -- confirmation ------------------------------------------------------------------------------


def confirm(
    session: Session,
    form: Form,
    token: str,
    *,
    visitor: Visitor,
    now: dt.datetime,
    secret: str,
) -> str:
    """Turn a pending sign-up into subscribed and pending consents into granted.

    Returns the membership status afterwards (``subscribed``, or ``unsubscribed`` when the
    person left the list since: an old link never re-subscribes). Confirming twice is a no-op.
    """
    contact_id = read_confirmation(secret, token, slug=form.slug, now=now)
    try:
        contact = survivor(session, contact_id)
    except LookupError:
        raise InvalidInput("the confirmation link is not valid", field="token") from None
    ids = list(dict.fromkeys((contact_id, contact.id)))  # before and after a merge
    status = "subscribed"
    for candidate in ids if form.list_id is not None else ():
        row = session.get(ListMembership, (form.list_id, candidate))
        if row is not None:
            if row.status == "pending":
                row.status, row.updated_at = "subscribed", now
            status = row.status
    for channel in form.consent_channels:
        for candidate in ids:
            current = consents_in_force(session, candidate).get(channel)
            if current is not None and current.status == "pending":
                record_consent(
                    session,
                    candidate,
                    channel,
                    "granted",
                    source=f"form:{form.slug}:confirmed",
                    at=now,
                    proof={**visitor.proof(form.slug, "confirmed_at", now), "pending": current.id},
                )
    if status == "subscribed":
        message = {
            "type": "track",
            "messageId": "confirm-" + hashlib.sha256(token.encode()).hexdigest()[:40],
            "event": CONFIRMED,
            "properties": {"form": form.slug, "list": list_slug(session, form)},
        }
        _store(session, [message], contact.id, _context(visitor, traits={}), now)
    return status


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
