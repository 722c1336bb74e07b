"""On-site placements, and choosing what each slot of a page shows to one visitor.

Functions take a session and never commit.

**What a slot shows** (:func:`choose`), per slot asked for:

1. A message a workflow sent this person on the ``onsite`` channel: a pending outbox row of
   the contact whose ``payload["slot"]`` names the slot (the send step's ``data``), due
   (``not_before`` passed), highest priority then oldest first. It is shown **once**: showing
   it marks the row ``sent`` (a compare-and-set on its status, so two pages loading at the
   same moment cannot both show it) and appends ``Message Sent`` to the timeline. The row
   waits for its visitor until ``payload["expires_at"]`` (ISO 8601) if given, else for
   :data:`DEFAULT_TTL` after it was created; a row found past that is marked ``failed``
   (error ``expired``) and never shown.
2. Otherwise the active placement of the slot with the highest ``priority`` (ties: the
   smallest id) whose dates include now and whose audience the visitor is in
   (:mod:`lealta.onsite.audience`).

**Loyalty tiers.** A placement for members of some tiers (audience ``tiers``: "You are Gold:
shipping is on us") is shown only to a visitor who *proved* to be the member: their
``anonymousId`` (the snippet's random id, kept in their own cookie) must lead to the member's
profile. A ``userId`` alone proves nothing (the track key is public and user ids are often
guessable), so it never shows tier content, as the loyalty card
(``GET /v1/contacts/{id}/loyalty``) refuses an unsigned ``userId``. The tier is the one the
last review gave (``contact_tiers``), if it belongs to the programme in force; the
placement's template sees it as ``{{ loyalty.tier }}`` with its ``benefits`` and their codes.

Consent plays no part (nothing is sent to anyone: the visitor is looking at the page). A
template that fails to render is skipped (logged; a workflow's message is marked ``failed``)
and the next candidate is tried, so a broken template never breaks the shop's page.

**Tracking.** Each answer carries a signed impression URL (:mod:`lealta.onsite.tokens`). For a
workflow's message an impression is an ``opened`` interaction of its outbox row (recorded by
:func:`lealta.feedback.service.record`, once per row) and its links are the renderer's tracked
links (``/l/c/…``). For a placement an impression is an ``Onsite Impression`` event and its
links go through ``/v1/onsite/click/<token>``, which records an ``Onsite Click`` event and
redirects with ``utm_source=lealta&utm_medium=onsite&utm_campaign=<placement>``; both events
go through the tracking pipeline under the visitor's anonymous id or user id (a visitor
without either is not recorded). Recording is in :mod:`lealta.onsite.interactions`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lealta.channels.tables import OutboxMessage
from lealta.conditions import ContactView
from lealta.conditions.views import views
from lealta.config import Settings
from lealta.contacts.schemas import as_utc
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput, NotFound
from lealta.feedback.service import add_event, context
from lealta.identity.service import find_contact, survivor
from lealta.links.signing import with_utm
from lealta.messages.service import render_body, render_for
from lealta.messages.tables import MessageTemplate
from lealta.onsite.audience import matches, parse
from lealta.onsite.markup import tracked_links
from lealta.onsite.schemas import PlacementIn
from lealta.onsite.tables import OnsitePlacement
from lealta.onsite.tokens import OnsiteTokens

log = logging.getLogger(__name__)

CHANNEL = "onsite"
STATUSES = ("active", "paused")
DEFAULT_TTL = dt.timedelta(days=30)
MAX_SLOTS = 20


@dataclass(frozen=True)
class Shown:
    """What one slot shows: the HTML, where to report its impression, and where it came from
    (``placement`` id, or ``message``: the outbox id of a workflow's message)."""

    slot: str
    html: str
    impression_url: str
    template: str
    placement: str | None = None
    message: int | None = None


# -- placements ------------------------------------------------------------------------------


def save(
    session: Session, placement_id: str, data: PlacementIn, *, now: dt.datetime
) -> tuple[OnsitePlacement, bool]:
    """Create or replace placement ``placement_id``; the row and whether it was created.

    Raises ``InvalidInput`` (field ``template``) unless the template exists for ``onsite``.
    """
    _check_id(placement_id)
    template = session.get(MessageTemplate, data.template)
    if template is None:
        raise InvalidInput(f"no message template {data.template!r}", field="template")
    if template.channel != CHANNEL:
        raise InvalidInput(
            f"template {data.template!r} is for {template.channel}, not {CHANNEL}",
            field="template",
        )
    values = {
        "slot": data.slot,
        "template": data.template,
        "audience": {
            "version": data.audience.version,
            **data.audience.model_dump(mode="json", exclude_defaults=True),
        },
        "priority": data.priority,
        "status": data.status,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "updated_at": now,
    }
    row = session.get(OnsitePlacement, placement_id)
    created = row is None
    if row is None:
        row = OnsitePlacement(id=placement_id, created_at=now, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row, created


def get(session: Session, placement_id: str) -> OnsitePlacement:
    """Placement ``placement_id``; ``NotFound`` when there is none."""
    row = session.get(OnsitePlacement, placement_id)
    if row is None:
        raise NotFound(f"no placement {placement_id!r}")
    return row


def list_(
    session: Session, *, slot: str | None = None, status: str | None = None
) -> list[OnsitePlacement]:
    """Placements by slot, then highest priority first, optionally of one slot or status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    query = select(OnsitePlacement).order_by(
        OnsitePlacement.slot, OnsitePlacement.priority.desc(), OnsitePlacement.id
    )
    if slot is not None:
        query = query.where(OnsitePlacement.slot == slot)
    if status is not None:
        query = query.where(OnsitePlacement.status == status)
    return list(session.scalars(query))


def delete(session: Session, placement_id: str) -> None:
    """Remove placement ``placement_id``; ``NotFound`` when there is none."""
    session.delete(get(session, placement_id))
    session.flush()


def set_status(
    session: Session, placement_id: str, status: str, *, now: dt.datetime
) -> OnsitePlacement:
    """Make placement ``placement_id`` ``active`` or ``paused``."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    row = get(session, placement_id)
    if row.status != status:
        row.status = status
        row.updated_at = now
        session.flush()
    return row


def pause(session: Session, placement_id: str, *, now: dt.datetime) -> OnsitePlacement:
    """Stop showing a placement (it is kept, with its settings)."""
    return set_status(session, placement_id, "paused", now=now)


def activate(session: Session, placement_id: str, *, now: dt.datetime) -> OnsitePlacement:
    """Show a paused placement again (within its dates)."""
    return set_status(session, placement_id, "active", now=now)


def _check_id(placement_id: str) -> None:
    if not _is_name(placement_id):
        raise InvalidInput(
            "a placement id is 1 to 100 letters, digits and _ . : - (starting with a letter "
            "or digit)",
            field="id",
        )


def _is_name(text: str) -> bool:
    return (
        0 < len(text) <= 100
        and text[0].isascii()
        and text[0].isalnum()
        and all(c.isascii() and (c.isalnum() or c in "_.:-") for c in text)
    )


def check_slots(slots: Sequence[str]) -> list[str]:
    """The slot names asked for, without repeats; ``InvalidInput`` (field ``slots``)."""
    wanted = list(dict.fromkeys(s.strip() for s in slots if s.strip()))
    if not wanted:
        raise InvalidInput("name at least one slot", field="slots")
    if len(wanted) > MAX_SLOTS:
        raise InvalidInput(f"at most {MAX_SLOTS} slots per request", field="slots")
    bad = [s for s in wanted if not _is_name(s)]
    if bad:
        raise InvalidInput(f"not a slot name: {bad[0]!r}", field="slots")
    return wanted


# -- visitors --------------------------------------------------------------------------------


def find_visitor(
    session: Session, *, anonymous_id: str | None = None, user_id: str | None = None
) -> Contact | None:
    """The live profile of the visitor (their user id first, then their anonymous id)."""
    for kind, value in (("user_id", user_id), ("anonymous_id", anonymous_id)):
        if value:
            contact = find_contact(session, kind, value)
            if contact is not None and contact.erased_at is None:
                return contact
    return None


# -- choosing --------------------------------------------------------------------------------


def choose(
    session: Session,
    settings: Settings,
    *,
    contact_id: str | None,
    slots: Sequence[str],
    now: dt.datetime,
    page_url: str | None = None,
    anonymous_id: str | None = None,
    user_id: str | None = None,
) -> dict[str, Shown | None]:
    """What each of ``slots`` shows to the visitor (see the module docstring); ``None``: the
    slot keeps the page's own content.

    ``contact_id`` is the visitor's profile (``None``: an anonymous visitor). ``anonymous_id``
    and ``user_id``, as the visitor presented them, go into the impression and click tokens
    so those can be recorded for them; ``page_url`` resolves relative links of placements.
    """
    wanted = check_slots(slots)
    contact = _live(session, contact_id)
    chooser = _Chooser(session, settings, now, page_url, {"a": anonymous_id, "i": user_id})
    found: dict[str, Shown | None] = dict.fromkeys(wanted)
    if contact is not None:
        found.update(chooser.messages(contact.id, wanted))
    left = [slot for slot in wanted if found[slot] is None]
    if left:
        found.update(chooser.placements(contact, left))
    return found


def _live(session: Session, contact_id: str | None) -> Contact | None:
    if contact_id is None:
        return None
    try:
        contact = survivor(session, contact_id)
    except LookupError:
        return None
    return None if contact.erased_at is not None else contact


class _Chooser:
    """One :func:`choose` call's shared state: settings, signer, visitor claims."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        now: dt.datetime,
        page_url: str | None,
        visitor: Mapping[str, str | None],
    ) -> None:
        self.session = session
        self.settings = settings
        self.now = as_utc(now)
        self.page_url = page_url
        self.visitor = {k: v for k, v in visitor.items() if v}
        self.tokens = OnsiteTokens(settings.secret_key)
        self.base = settings.base_url

    # -- a workflow's messages -----------------------------------------------------------

    def messages(self, contact_id: str, slots: Sequence[str]) -> dict[str, Shown]:
        rows = self.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.contact_id == contact_id,
                OutboxMessage.channel == CHANNEL,
                OutboxMessage.status == "pending",
                OutboxMessage.not_before <= self.now,
            )
            .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
        ).all()
        shown: dict[str, Shown] = {}
        for row in rows:
            slot = (row.payload or {}).get("slot")
            if slot not in slots or slot in shown:
                continue
            found = self._show_message(row, str(slot))
            if found is not None:
                shown[found.slot] = found
        return shown

    def _show_message(self, row: OutboxMessage, slot: str) -> Shown | None:
        expiry = expires_at(row.payload or {}, created_at=as_utc(row.created_at))
        if expiry is None:
            self._finish(row, "failed", error="payload.expires_at is not an ISO 8601 time")
            return None
        if expiry <= self.now:
            self._finish(row, "failed", error="expired")
            return None
        try:
            rendered = render_for(
                self.session,
                self.settings,
                template_id=row.template,
                contact_id=row.contact_id,
                outbox_id=row.id,
                payload=row.payload or {},
                now=self.now,
            )
        except Exception as exc:  # a template bug must not break the shop's page
            log.warning("on-site message %s did not render: %s", row.id, exc)
            self._finish(row, "failed", error=f"rendering failed: {exc}"[:1000])
            return None
        if not self._finish(row, "sent"):
            return None  # another page showed it first
        add_event(
            self.session,
            contact_id=row.contact_id,
            name="Message Sent",
            properties=_compact({**context(row), "slot": slot, "page": self.page_url}),
            at=self.now,
            message_id=f"outbox:{row.id}:sent",
        )
        claims = {"m": row.id, "s": slot, "t": row.template, **self.visitor}
        return Shown(
            slot=slot,
            html=str(rendered.get("html") or ""),
            impression_url=self._impression_url(claims),
            template=row.template,
            message=row.id,
        )

    def _finish(self, row: OutboxMessage, status: str, *, error: str | None = None) -> bool:
        """Move ``row`` from pending to ``status``, unless someone else moved it first."""
        values: dict[str, Any] = {"status": status, "error": error, "attempts": row.attempts + 1}
        if status == "sent":
            values["sent_at"] = self.now
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    # -- placements ----------------------------------------------------------------------

    def placements(self, contact: Contact | None, slots: Sequence[str]) -> dict[str, Shown]:
        candidates = [p for p in _candidates(self.session, slots) if _current(p, self.now)]
        if not candidates:
            return {}
        view = self._view(contact, candidates)
        tier = self._tier(contact, candidates)
        shown: dict[str, Shown] = {}
        for placement in candidates:
            audience = parse(placement.audience)
            if placement.slot in shown or not matches(audience, view, tier=tier, now=self.now):
                continue
            found = self._show_placement(placement, view)
            if found is not None:
                shown[placement.slot] = found
        return shown

    def _view(
        self, contact: Contact | None, candidates: Sequence[OnsitePlacement]
    ) -> ContactView | None:
        if contact is None:
            return None
        parts: set[str] = set()
        for placement in candidates:
            parts |= parse(placement.audience).needs()
        return views(self.session, {contact.id: parts}, now=self.now).get(contact.id)

    def _tier(self, contact: Contact | None, candidates: Sequence[OnsitePlacement]) -> str | None:
        """The loyalty tier of ``contact`` when a candidate needs it and the visitor proved to
        be them (see the module docstring); None otherwise."""
        if contact is None or not any(parse(p.audience).tiers for p in candidates):
            return None
        if not self._proven(contact):
            return None
        return tier_of(self.session, contact.id)

    def _proven(self, contact: Contact) -> bool:
        """Whether the visitor's anonymous id leads to ``contact`` (merged profiles followed)."""
        anonymous_id = self.visitor.get("a")
        if not anonymous_id:
            return False
        found = find_contact(self.session, "anonymous_id", anonymous_id)
        if found is None:
            return False
        try:
            return survivor(self.session, found.id).id == contact.id
        except LookupError:
            return False

    def _show_placement(self, placement: OnsitePlacement, view: ContactView | None) -> Shown | None:
        try:
            markup = self._render_placement(placement, view)
        except Exception as exc:  # a template bug must not break the shop's page
            log.warning("placement %s did not render: %s", placement.id, exc)
            return None
        claims = {
            "p": placement.id,
            "s": placement.slot,
            "t": placement.template,
            "n": secrets.token_hex(8),
            **self.visitor,
        }
        utm = {"source": "lealta", "medium": "onsite", "campaign": placement.id}

        def track(url: str) -> str:
            token = self.tokens.sign("click", {**claims, "u": with_utm(url, utm)})
            return f"{self.base}/v1/onsite/click/{token}"

        return Shown(
            slot=placement.slot,
            html=tracked_links(markup, track, page_url=self.page_url),
            impression_url=self._impression_url(claims),
            template=placement.template,
            placement=placement.id,
        )

    def _render_placement(self, placement: OnsitePlacement, view: ContactView | None) -> str:
        if view is not None:
            rendered = render_for(
                self.session,
                self.settings,
                template_id=placement.template,
                contact_id=view.id,
                now=self.now,
            )
        else:  # an anonymous visitor: the empty context, so the template's fallbacks show
            template = self.session.get(MessageTemplate, placement.template)
            if template is None:
                raise NotFound(f"no message template {placement.template!r}")
            rendered = render_body(
                self.session,
                self.settings,
                channel=CHANNEL,
                body=template.body,
                template_id=template.id,
                contact_id=None,
                now=self.now,
            )
        return str(rendered.get("html") or "")

    def _impression_url(self, claims: Mapping[str, Any]) -> str:
        token = self.tokens.sign("impression", claims)
        return f"{self.base}/v1/onsite/impressions?token={quote(token)}"


def tier_of(session: Session, contact_id: str) -> str | None:
    """The loyalty tier ``contact_id`` holds under the programme in force (None: no
    programme, no tier, or a tier the programme no longer has, until the next review)."""
    from lealta.loyalty.service import get as programme_in_force
    from lealta.loyalty.tables import ContactTier

    row = session.get(ContactTier, contact_id)
    if row is None:
        return None
    stored = programme_in_force(session)
    if stored is None or row.tier not in stored.program.tier_names():
        return None
    return row.tier


def _candidates(session: Session, slots: Sequence[str]) -> list[OnsitePlacement]:
    return list(
        session.scalars(
            select(OnsitePlacement)
            .where(OnsitePlacement.slot.in_(slots), OnsitePlacement.status == "active")
            .order_by(OnsitePlacement.priority.desc(), OnsitePlacement.id)
        )
    )


def _current(placement: OnsitePlacement, now: dt.datetime) -> bool:
    starts = as_utc(placement.starts_at) if placement.starts_at else None
    ends = as_utc(placement.ends_at) if placement.ends_at else None
    return (starts is None or starts <= now) and (ends is None or now < ends)


def expires_at(payload: Mapping[str, Any], *, created_at: dt.datetime) -> dt.datetime | None:
    """Until when an on-site message waits for its visitor: ``payload["expires_at"]`` (a zone-
    less time is UTC), else :data:`DEFAULT_TTL` after ``created_at``; ``None`` when the
    payload's time cannot be read."""
    given = payload.get("expires_at")
    if given is None:
        return created_at + DEFAULT_TTL
    if not isinstance(given, str):
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(given.replace("Z", "+00:00")))
    except ValueError:
        return None


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
