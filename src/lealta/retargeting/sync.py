"""Keeping an ad platform audience current: signed webhooks of additions and removals.

An *ad sync* ties a saved audience to the URL of a connector (a small service of the shop's,
outside Lealta, that talks to Meta's or Google's API). Each pass of the worker turns what
happened since the previous pass into one webhook per change, queued in the outbox on the
``webhook`` channel, so it is signed, retried and deduplicated like every webhook Lealta
sends (:mod:`lealta.channels.webhook`: ``X-Lealta-Signature``, ``Idempotency-Key``):

* an ``Audience Entered`` event: ``add``, when the person may be exported (``ads`` consent
  granted, an e-mail or a valid phone: :func:`lealta.retargeting.people.decide`);
* an ``Audience Exited`` event: ``remove``;
* a new ``ads`` decision of a current member: ``add`` on a grant, ``remove`` on anything else.

The body says what changed and carries the person's row as the upload file has it (hashed,
in the sync's format), so the connector can call the platform's add or remove with it::

    {"type": "ad_audience_change", "change": "add", "sync": 1, "audience": "Big spenders",
     "contact": "5f0c…", "format": "meta", "columns": ["email", "phone", …],
     "row": ["62a14e44…", "", …], "cause": "Audience Entered", "at": "2026-12-06T16:20:00+00:00"}

A removal's row is worked out from the identifiers held at that moment whatever the consent
(telling a platform to forget someone is always allowed); it is ``null`` when nothing is left
to hash, and the connector then removes by ``contact``, the id it was given on the addition.
The sync starts from the moment it is created: the people already in the audience are
uploaded once with the file (``lealta ads export --audience …``).

Events are read in id order once they are ``GRACE`` old: a pass stops at the first younger
one, so that a refresh still committing when a pass reads cannot slip behind the position the
pass moves on to. The position moves past every event read, of any name, so a pass reads only
what arrived since the previous one (at most ``SCAN`` x ``WINDOWS`` events; the rest next time).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.audiences import service as audiences
from lealta.audiences.membership import ENTERED, EXITED
from lealta.audiences.tables import Audience, AudienceMember
from lealta.channels.outbox import enqueue
from lealta.contacts.schemas import as_utc
from lealta.contacts.tables import Consent
from lealta.errors import InvalidInput, NotFound
from lealta.events.tables import Event
from lealta.retargeting import formats
from lealta.retargeting.people import Candidate, decide
from lealta.retargeting.service import ADS, CHUNK, candidates_of
from lealta.retargeting.tables import AdSync

if TYPE_CHECKING:
    from lealta.bootstrap import Services

log = logging.getLogger(__name__)
GRACE = dt.timedelta(seconds=30)
SCAN = 20_000  # events (or consent decisions) read at a time
WINDOWS = 25  # at most this many times per pass (500,000 events)
CHANNEL = "webhook"


def create(session: Session, *, audience: str, url: str, format_: str, now: dt.datetime) -> AdSync:
    """A sync of ``audience`` (name or id) to ``url``, from now on (see the module's text)."""
    if format_ not in formats.FORMATS:
        raise InvalidInput(
            f"unknown format {format_!r}; choose from {', '.join(formats.FORMATS)}",
            field="format",
        )
    try:
        parts = urlsplit(url)
        # reading .port raises on a port out of range or not a number
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 200
        usable = usable and (parts.port is None or parts.port > 0)
    except ValueError:  # an unclosed IPv6 bracket, a bad port …
        usable = False
    if not usable:
        raise InvalidInput(f"{url!r} is not an http(s) URL of at most 200 characters", field="url")
    try:
        found = audiences.get(session, audience)
    except NotFound:
        raise InvalidInput(f"no audience {audience!r}", field="audience") from None
    row = AdSync(
        audience_id=found.id,
        url=url,
        format=format_,
        events_after=int(session.scalar(select(func.max(Event.id))) or 0),
        consents_after=int(session.scalar(select(func.max(Consent.id))) or 0),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_(session: Session) -> list[tuple[AdSync, str]]:
    """Every sync with its audience's name, oldest first."""
    rows = session.execute(
        select(AdSync, Audience.name).join(Audience, Audience.id == AdSync.audience_id)
    ).all()
    return [(sync, str(name)) for sync, name in sorted(rows, key=lambda r: r[0].id)]


def delete(session: Session, sync_id: int) -> None:
    """Stop sync ``sync_id`` (webhooks already queued still go)."""
    row = session.get(AdSync, sync_id)
    if row is None:
        raise NotFound(f"no ad sync {sync_id}")
    session.delete(row)
    session.flush()


def push(session: Session, *, now: dt.datetime, region: str) -> int:
    """Queue the webhooks of every sync's changes since its previous pass; how many."""
    queued = 0
    for sync in session.scalars(select(AdSync).order_by(AdSync.id)).all():
        name = session.scalar(select(Audience.name).where(Audience.id == sync.audience_id))
        changes = _membership_changes(session, sync, now=now)
        changes += _consent_changes(session, sync)
        queued += _queue(session, sync, str(name), changes, now=now, region=region)
    return queued


# (idempotency key, contact, add?, cause, at)
Change = tuple[str, str, bool, str, dt.datetime]


def _membership_changes(session: Session, sync: AdSync, *, now: dt.datetime) -> list[Change]:
    """The sync's audience moves among the events after ``events_after``, read in id order
    ``SCAN`` rows at a time, up to the first event younger than ``GRACE`` (it and those after
    it wait for the next pass). The position moves past every event read, whatever its name,
    so a pass never reads the same events again."""
    cutoff = now - GRACE
    moves: list[tuple[int, str, str]] = []
    for _ in range(WINDOWS):
        rows = session.execute(
            select(Event.id, Event.name, Event.received_at, Event.contact_id)
            .where(Event.id > sync.events_after)
            .order_by(Event.id)
            .limit(SCAN)
        ).all()
        young = False
        for event_id, name, received, contact_id in rows:
            if as_utc(received) > cutoff:
                young = True
                break
            sync.events_after = int(event_id)
            if name in (ENTERED, EXITED) and contact_id:
                moves.append((int(event_id), str(name), str(contact_id)))
        if young or len(rows) < SCAN:
            break
    details = {
        int(event_id): (properties or {}, at)
        for event_id, properties, at in session.execute(
            select(Event.id, Event.properties, Event.occurred_at).where(
                Event.id.in_([m[0] for m in moves])
            )
        )
    }
    return [
        (f"ads-sync:{sync.id}:e{event_id}", contact_id, name == ENTERED, name, details[event_id][1])
        for event_id, name, contact_id in moves
        if details[event_id][0].get("audience_id") == sync.audience_id
    ]


def _consent_changes(session: Session, sync: AdSync) -> list[Change]:
    """The ``ads`` decisions after ``consents_after``, read in id order ``SCAN`` rows at a time
    (up to ``WINDOWS`` times), the position moving past decisions of every channel."""
    rows: list[Any] = []
    for _ in range(WINDOWS):
        window = session.execute(
            select(
                Consent.id, Consent.contact_id, Consent.channel, Consent.status, Consent.recorded_at
            )
            .where(Consent.id > sync.consents_after)
            .order_by(Consent.id)
            .limit(SCAN)
        ).all()
        if window:
            sync.consents_after = int(window[-1][0])
        rows += [(i, c, status, at) for i, c, channel, status, at in window if channel == ADS]
        if len(window) < SCAN:
            break
    deciding = sorted({row[1] for row in rows})
    members: set[str] = set()
    for first in range(0, len(deciding), 5_000):  # bound the bound parameters of one query
        members.update(
            session.scalars(
                select(AudienceMember.contact_id).where(
                    AudienceMember.audience_id == sync.audience_id,
                    AudienceMember.contact_id.in_(deciding[first : first + 5_000]),
                )
            )
        )
    return [
        (
            f"ads-sync:{sync.id}:c{consent_id}",
            contact_id,
            status == "granted",
            "ads consent granted" if status == "granted" else "ads consent withdrawn",
            at,
        )
        for consent_id, contact_id, status, at in rows
        if contact_id in members
    ]


def _queue(
    session: Session,
    sync: AdSync,
    audience: str,
    changes: list[Change],
    *,
    now: dt.datetime,
    region: str,
) -> int:
    queued = 0
    for first in range(0, len(changes), CHUNK):  # a chunk of people in memory at a time
        part = changes[first : first + CHUNK]
        known = {c.contact_id: c for c in candidates_of(session, sorted({c[1] for c in part}))}
        queued += _queue_part(session, sync, audience, part, known, now=now, region=region)
    return queued


def _queue_part(
    session: Session,
    sync: AdSync,
    audience: str,
    changes: list[Change],
    known: dict[str, Candidate],
    *,
    now: dt.datetime,
    region: str,
) -> int:
    queued = 0
    for key, contact_id, add, cause, at in changes:
        candidate = known.get(contact_id)
        if candidate is None:
            continue
        if not add:  # forgetting someone is always allowed: hash what is still held
            candidate = replace(candidate, ads_consent="granted")
        person = decide(candidate, region=region)
        if add and isinstance(person, str):
            continue  # not exportable (no ads consent, nothing to hash, erased)
        body: dict[str, Any] = {
            "type": "ad_audience_change",
            "change": "add" if add else "remove",
            "sync": sync.id,
            "audience": audience,
            "contact": contact_id,
            "format": sync.format,
            "columns": list(formats.headers(sync.format)),
            "row": None if isinstance(person, str) else formats.row(sync.format, person),
            "cause": cause,
            "at": at.isoformat(),
        }
        message = enqueue(
            session,
            key=key,
            contact_id=contact_id,
            channel=CHANNEL,
            template=sync.url,
            payload={"url": sync.url, "method": "POST", "body": body},
            not_before=now,
            now=now,
        )
        queued += message is not None
    return queued


class AdSyncSchedule:
    """The worker's pass over the ad syncs, every ``every`` seconds (default 30)."""

    def __init__(self, services: Services, *, every: float = 30.0) -> None:
        self.services = services
        self.every = every
        self._next = 0.0

    def run_if_due(self) -> None:
        """Push the syncs' changes when due; a failure is logged and tried at the next turn."""
        if self.every <= 0 or time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.every
        try:
            with self.services.uow.transaction() as session:
                if session.scalar(select(func.count()).select_from(AdSync)):
                    push(
                        session,
                        now=self.services.clock.now(),
                        region=self.services.settings.default_phone_region,
                    )
        except Exception:
            log.exception("the ad syncs' pass failed; trying again later")
