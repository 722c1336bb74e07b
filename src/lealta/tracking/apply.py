"""Applying one tracked message to the profiles: identity, the event row, traits, orders,
consent, lifecycle stage and lead score.

An :class:`Applier` lives for one transaction of the processor; it caches the identifier →
contact lookups of that transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from lealta.automations.triggers import Triggers
from lealta.contacts.attributes import coerce_all
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import (
    CHANNELS,
    AttributeDefinition,
    Contact,
    ContactList,
    Identifier,
    ListMembership,
    new_contact_id,
)
from lealta.errors import InvalidInput
from lealta.events import catalog
from lealta.events.tables import Event
from lealta.feedback.attribution import Purchase
from lealta.identity.normalize import normalize
from lealta.identity.service import find_contact, merge, resolve, survivor
from lealta.lifecycle import service as lifecycle
from lealta.lifecycle.engine import Transition
from lealta.orders.records import from_event_properties
from lealta.orders.service import record_order
from lealta.rulesets.service import Rules
from lealta.scoring import service as scoring
from lealta.scoring.engine import Applied
from lealta.scoring.rules import ScoringEvent
from lealta.storage.upsert import insert_ignoring
from lealta.tracking import consent
from lealta.tracking.messages import parse_time

log = logging.getLogger(__name__)


def identifiers(message: Mapping[str, Any], *, region: str) -> dict[str, str]:
    """The identifiers a message names: anonymous id, user id, e-mail, phone, external ids."""
    found: dict[str, str] = {}
    for field, kind in (("anonymousId", "anonymous_id"), ("userId", "user_id")):
        value = message.get(field)
        if value and str(value).strip():
            found[kind] = str(value).strip()
    context = message.get("context") or {}
    traits: dict[str, Any] = {}
    if isinstance(context.get("traits"), dict):
        traits.update(context["traits"])
    if message.get("type") == "identify" and isinstance(message.get("traits"), dict):
        traits.update(message["traits"])
    for kind in ("email", "phone"):
        value = traits.get(kind)
        if isinstance(value, str) and value.strip():
            try:
                found[kind] = normalize(kind, value, region)
            except InvalidInput:
                log.info("ignoring %s %r of message %s", kind, value, message.get("messageId"))
    external = context.get("externalIds")
    if isinstance(external, list):
        for entry in external[:1]:  # one external id per message: several would be ambiguous
            if isinstance(entry, dict) and entry.get("id") and entry.get("type"):
                found["external_id"] = f"{entry['type']}:{entry['id']}"
    return found


class Applier:
    """Applies messages inside one session; never commits."""

    def __init__(
        self,
        session: Session,
        rules: Rules,
        *,
        now: dt.datetime,
        region: str,
        triggers: Triggers | None = None,
        consent_categories: Mapping[str, Sequence[str]] = consent.DEFAULT_CATEGORIES,
    ) -> None:
        self.session = session
        self.consent_categories = consent_categories
        self.triggers = triggers
        self.rules = rules
        self.now = now
        self.region = region
        self._owners: dict[tuple[str, str], str] = {}
        self._declared: dict[str, str] | None = None
        self._events: list[dict[str, Any]] = []
        self._contacts: dict[str, Contact] = {}
        # the batch's orders, credited to the messages clicked before them after the batch
        self.purchases: list[Purchase] = []

    def prefetch(self, messages: list[Mapping[str, Any]]) -> None:
        """Prepare the batch's people in a few queries instead of a few per message.

        Finds the owners of every identifier the batch names and loads their profiles; people
        named by one identifier nobody owns yet are created together (contacts, then their
        identifiers with ``ON CONFLICT DO NOTHING``: a profile a concurrent worker created
        first wins, and ours is dropped).
        """
        single: set[tuple[str, str]] = set()
        pairs: set[tuple[str, str]] = set()
        for message in messages:
            if message["type"] == "alias":
                continue
            found = identifiers(message, region=self.region)
            pairs.update(found.items())
            if len(found) == 1:
                single.update(found.items())
        if not pairs:
            return
        self._load_owners(pairs)
        new = sorted(pair for pair in single if pair not in self._owners)
        if new:
            self._create(new)
        ids = set(self._owners.values())
        if ids:
            # Held here: the session's identity map keeps only weak references.
            for contact in self.session.scalars(select(Contact).where(Contact.id.in_(ids))):
                self._contacts[contact.id] = contact

    def _load_owners(self, pairs: set[tuple[str, str]]) -> None:
        ordered = sorted(pairs)
        for start in range(0, len(ordered), 500):
            rows = self.session.execute(
                select(Identifier.kind, Identifier.value, Identifier.contact_id).where(
                    tuple_(Identifier.kind, Identifier.value).in_(ordered[start : start + 500])
                )
            ).all()
            owners = {row.contact_id for row in rows}
            merged = dict(
                self.session.execute(
                    select(Contact.id, Contact.merged_into).where(
                        Contact.id.in_(owners), Contact.merged_into.is_not(None)
                    )
                ).all()
            )
            for kind, value, owner in rows:
                self._owners[(kind, value)] = (
                    survivor(self.session, owner).id if owner in merged else owner
                )

    def _create(self, pairs: list[tuple[str, str]]) -> None:
        now = self.now
        mine = {pair: new_contact_id() for pair in pairs}
        self.session.execute(
            insert(Contact),
            [
                {
                    "id": cid,
                    "created_at": now,
                    "updated_at": now,
                    "attributes": {},
                    "score": 0.0,
                    "score_state": {},
                }
                for cid in mine.values()
            ],
        )
        insert_ignoring(
            self.session,
            Identifier.__table__,
            [
                {"contact_id": cid, "kind": kind, "value": value, "created_at": now}
                for (kind, value), cid in mine.items()
            ],
            conflict=("kind", "value"),
        )
        self._load_owners(set(pairs))
        lost = [cid for pair, cid in mine.items() if self._owners.get(pair) != cid]
        if lost:
            self.session.execute(delete(Contact).where(Contact.id.in_(lost)))

    def flush_events(self) -> None:
        """Write the buffered event rows (before anything that moves events, and at the end)."""
        if self._events:
            self.session.execute(insert(Event), self._events)
            self._events = []

    # -- identity ---------------------------------------------------------------------------

    def contact_for(self, found: Mapping[str, str]) -> Contact:
        """The contact owning ``found``; created, or merged from several, as needed."""
        if len(found) == 1:
            ((kind, value),) = found.items()
            owner = self._owners.get((kind, value))
            if owner is not None:
                held = self._contacts.get(owner)
                if held is not None and held.merged_into is None:
                    return held
                return survivor(self.session, owner)
            contact = find_contact(self.session, kind, value)
            if contact is None:
                self.flush_events()
                contact = resolve(self.session, found, self.now)
            self._owners[(kind, value)] = contact.id
            return contact
        self.flush_events()
        contact = resolve(self.session, found, self.now)
        self._owners.clear()  # the resolve may have merged profiles: cached owners may be stale
        for pair in found.items():
            self._owners[pair] = contact.id
        return contact

    # -- messages ---------------------------------------------------------------------------

    def apply(self, message: Mapping[str, Any]) -> None:
        """Apply one normalised message."""
        if message["type"] == "alias":
            self._alias(message)
            return
        found = identifiers(message, region=self.region)
        contact = self.contact_for(found)
        occurred = parse_time(message["timestamp"])
        seen = ScoringEvent(
            key=message["messageId"],
            occurred_at=occurred,
            type=message["type"],
            name=_name(message),
            properties=_properties(message),
        )
        notes: dict[str, Any] = {}
        self._consent(contact, message, occurred, notes)
        if seen.type == "identify":
            traits = {k: v for k, v in seen.properties.items() if k != "consent"}
            self._traits(contact, traits, notes)
        elif seen.type == "track":
            self._well_known(contact, seen, notes)
        self._events.append(
            {
                "message_id": seen.key,
                "contact_id": contact.id,
                "anonymous_id": message.get("anonymousId"),
                "user_id": message.get("userId"),
                "type": seen.type,
                "name": seen.name,
                "properties": dict(seen.properties),
                "context": _context(message, notes),
                "occurred_at": occurred,
                "received_at": parse_time(message["receivedAt"]),
            }
        )
        _touch(contact, occurred)
        moved = lifecycle.on_event(self.session, contact, seen, self.rules.lifecycle)
        if scoring.needs_history(contact, seen):
            self.flush_events()  # the recomputation reads this contact's events back
        scored = scoring.on_event(self.session, contact, seen, self.rules.scoring)
        if self.triggers is not None and self.triggers.live:
            self._trigger(contact, seen, moved, scored)

    def _trigger(
        self,
        contact: Contact,
        seen: ScoringEvent,
        moved: Transition | None,
        scored: Applied | None,
    ) -> None:
        """Offer the event, and what it caused, to the workflows' triggers."""
        assert self.triggers is not None
        if self.triggers.needs_history:
            self.flush_events()  # count and path triggers read the stored history
        derived = [seen]
        if moved is not None:
            derived.append(
                ScoringEvent(
                    f"{seen.key}:stage",
                    seen.occurred_at,
                    "track",
                    lifecycle.STAGE_CHANGED,
                    {"from": moved.from_, "to": moved.to, "rule": moved.rule_id},
                )
            )
        for threshold in scored.crossed if scored is not None else ():
            derived.append(
                ScoringEvent(
                    f"{seen.key}:score:{threshold:g}",
                    seen.occurred_at,
                    "track",
                    scoring.THRESHOLD_CROSSED,
                    {"threshold": threshold, "score": contact.score},
                )
            )
        for event in derived:
            self.triggers.on_event(contact.id, event)

    def _alias(self, message: Mapping[str, Any]) -> None:
        self.flush_events()
        user = self.contact_for({"user_id": message["userId"]})
        previous = message["previousId"]
        other = find_contact(self.session, "anonymous_id", previous) or find_contact(
            self.session, "user_id", previous
        )
        if other is None:
            resolve(
                self.session, {"user_id": message["userId"], "anonymous_id": previous}, self.now
            )
        elif other.id != user.id:
            first, second = sorted((user, other), key=lambda c: (_aware(c.created_at), c.id))
            merge(self.session, second, into=first, now=self.now)
            self._owners.clear()
        survivor_contact = survivor(self.session, user.id)
        self.session.add(
            Event(
                message_id=message["messageId"],
                contact_id=survivor_contact.id,
                user_id=message["userId"],
                type="alias",
                properties={"previousId": previous},
                context=dict(message.get("context") or {}),
                occurred_at=parse_time(message["timestamp"]),
                received_at=parse_time(message["receivedAt"]),
            )
        )

    def _traits(self, contact: Contact, traits: Mapping[str, Any], notes: dict[str, Any]) -> None:
        if self._declared is None:
            rows = self.session.execute(select(AttributeDefinition.name, AttributeDefinition.type))
            self._declared = {str(name): str(kind) for name, kind in rows}
        good, problems = coerce_all(traits, self._declared, strict=False)
        if good:
            attributes = dict(contact.attributes)
            for name, value in good.items():
                if value is None:
                    attributes.pop(name, None)
                else:
                    attributes[name] = value
            contact.attributes = attributes
        if problems:
            notes["rejected_traits"] = problems

    def _consent(
        self,
        contact: Contact,
        message: Mapping[str, Any],
        occurred: dt.datetime,
        notes: dict[str, Any],
    ) -> None:
        """Record the consent the message carries (see :mod:`lealta.tracking.consent`) where
        it changes the decision in force and is not older than it."""
        found, problems = consent.decisions(message, self.consent_categories)
        if problems:
            notes["rejected_consent"] = problems
        if not found:
            return
        in_force = consents_in_force(self.session, contact.id)
        for decision in found:
            current = in_force.get(decision.channel)
            if current is not None and (
                current.status == decision.status or _aware(current.recorded_at) > occurred
            ):
                continue
            record_consent(
                self.session,
                contact.id,
                decision.channel,
                decision.status,
                source="tracking",
                at=occurred,
                proof=_consent_proof(message, decision),
            )

    def _well_known(self, contact: Contact, seen: ScoringEvent, notes: dict[str, Any]) -> None:
        meaning = catalog.meaning(seen.name)
        if meaning == catalog.ORDER:
            try:
                order = from_event_properties(
                    seen.properties, placed_at=seen.occurred_at, fallback_id=seen.key
                )
            except InvalidInput as error:
                notes["order_error"] = str(error)
            else:
                record_order(self.session, contact.id, order)
                self.purchases.append(Purchase(order.id, contact.id, order.placed_at, order.amount))
        elif meaning == catalog.UNSUBSCRIBE:
            channel = str(seen.properties.get("channel") or "email")
            if channel in CHANNELS:
                record_consent(
                    self.session, contact.id, channel, "denied", source="event", at=seen.occurred_at
                )
            self._leave_list(contact, seen)

    def _leave_list(self, contact: Contact, seen: ScoringEvent) -> None:
        slug = seen.properties.get("list")
        if not isinstance(slug, str):
            return
        listed = self.session.scalar(select(ContactList).where(ContactList.slug == slug))
        if listed is None:
            return
        membership = self.session.get(ListMembership, (listed.id, contact.id))
        if membership is not None:
            membership.status = "unsubscribed"
            membership.updated_at = seen.occurred_at


def _consent_proof(message: Mapping[str, Any], decision: consent.Decision) -> dict[str, Any]:
    context = message.get("context") or {}
    page = context.get("page")
    proof = {
        "messageId": message["messageId"],
        "field": decision.found_in,
        "ip": context.get("ip"),
        "userAgent": context.get("userAgent"),
        "page": page.get("url") if isinstance(page, dict) else None,
    }
    return {k: v for k, v in proof.items() if v is not None}


def _name(message: Mapping[str, Any]) -> str | None:
    kind = message["type"]
    if kind == "track":
        return str(message["event"])
    if kind in ("page", "screen"):
        return message.get("name") or None
    if kind == "group":
        return str(message["groupId"])
    return None


def _properties(message: Mapping[str, Any]) -> dict[str, Any]:
    if message["type"] in ("identify", "group"):
        return dict(message.get("traits") or {})
    return dict(message.get("properties") or {})


def _context(message: Mapping[str, Any], notes: Mapping[str, Any]) -> dict[str, Any]:
    context = dict(message.get("context") or {})
    for key in ("originalTimestamp", "sentAt", "integrations"):
        if key in message:
            context[key] = message[key]
    if notes:
        context["lealta"] = dict(notes)
    return context


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _touch(contact: Contact, occurred: dt.datetime) -> None:
    first = contact.first_seen_at
    last = contact.last_seen_at
    if first is None or occurred < _aware(first):
        contact.first_seen_at = occurred
    if last is None or occurred > _aware(last):
        contact.last_seen_at = occurred
