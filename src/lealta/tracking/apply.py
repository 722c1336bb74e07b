"""Applying one tracked message to the profiles: identity, the event row, traits, orders,
consent, lifecycle stage and lead score.

An :class:`Applier` lives for one transaction of the processor; it caches the identifier →
contact lookups of that transaction and holds the batch's profiles as plain rows
(:mod:`lealta.identity.profiles`), written back together.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.automations.triggers import Triggers
from lealta.contacts.attributes import coerce_all
from lealta.contacts.consent import consents_in_force, record_consent
from lealta.contacts.tables import (
    CHANNELS,
    AttributeDefinition,
    ContactList,
    ListMembership,
)
from lealta.errors import InvalidInput
from lealta.events import catalog
from lealta.events.tables import Event
from lealta.feedback.attribution import Purchase
from lealta.identity.batch import BatchOwners
from lealta.identity.normalize import normalize
from lealta.identity.profiles import Profile
from lealta.identity.service import find_contact, merge, resolve, survivor
from lealta.lifecycle import service as lifecycle
from lealta.lifecycle.engine import Transition
from lealta.orders.records import from_event_properties
from lealta.orders.service import record_order
from lealta.rulesets.service import Rules
from lealta.scoring import service as scoring
from lealta.scoring.engine import Applied
from lealta.scoring.rules import ScoringEvent
from lealta.tracking import consent
from lealta.tracking.event_rows import BatchRows
from lealta.tracking.messages import parse_time

log = logging.getLogger(__name__)


_IDS = (("anonymousId", "anonymous_id"), ("userId", "user_id"))


def identifiers(message: Mapping[str, Any], *, region: str) -> dict[str, str]:
    """The identifiers a message names: anonymous id, user id, e-mail, phone, external ids."""
    found: dict[str, str] = {}
    for field, kind in _IDS:
        value = message.get(field)
        if value:
            text = value.strip() if type(value) is str else str(value).strip()
            if text:
                found[kind] = text
    context = message.get("context") or {}
    traits: dict[str, Any] = {}
    given = context.get("traits")
    if given is not None and isinstance(given, dict):
        traits = given
    if message.get("type") == "identify" and isinstance(message.get("traits"), dict):
        traits = {**traits, **message["traits"]}
    for kind in ("email", "phone") if traits else ():  # most events carry no traits
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
    """Applies messages inside one session; never commits.

    The rows a message adds (its event, stage and score history) are kept in :attr:`pending`
    and written a table at a time by :meth:`flush_events` (at the end of the batch, and before
    anything that reads them back); the profiles' changes are written with them. Identity
    changes that may merge profiles go through the session's ORM objects: the profiles are
    written before and read again after.
    """

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
        self.people = BatchOwners(session, now=now)
        self.pending = BatchRows()  # the messages' events (``pending.events``) written first
        self._received: dict[str, dt.datetime] = {}  # a batch shares a few receipt times
        self.scores = scoring.Kept()  # the batch's score states, parsed once per person
        self._declared: dict[str, str] | None = None
        self._named: dict[str, dict[str, str]] = {}
        # the batch's orders, credited to the messages clicked before them after the batch
        self.purchases: list[Purchase] = []

    def prefetch(self, messages: list[Mapping[str, Any]]) -> None:
        """Prepare the batch's people in a few queries instead of a few per message
        (:class:`lealta.identity.batch.BatchOwners`)."""
        for message in messages:
            if message["type"] != "alias":
                self._named[message["messageId"]] = identifiers(message, region=self.region)
        self.people.prepare(self._named.values())

    def flush_events(self) -> None:
        """Write the kept rows, and the profiles' changes (before anything that reads them
        back or moves events, and at the end)."""
        self.scores.write()
        self.session.flush()  # before the session's copies of the profiles are expired
        self.people.write()
        self.pending.write(self.session)
        if self.triggers is not None:
            self.triggers.wake_deferred()

    # -- identity ---------------------------------------------------------------------------

    def contact_for(self, found: Mapping[str, str]) -> Profile:
        """The profile owning ``found``; created, or merged from several, as needed."""
        if len(found) == 1:
            ((kind, value),) = found.items()
            owner = self.people.owners.get((kind, value))
            held = self.people.contacts.get(owner) if owner is not None else None
            if held is not None and held.merged_into is None:  # most messages: prepared
                return held
            held = self.people.find((kind, value))
            if held is not None:
                return held
            self.flush_events()
            created = resolve(self.session, found, self.now).id
            self.people.owners[(kind, value)] = created
            return self.people.profile(created)
        self.flush_events()
        resolved = resolve(self.session, found, self.now).id
        self.people.forget()  # the resolve may have merged profiles: known ones may be stale
        for pair in found.items():
            self.people.owners[pair] = resolved
        return self.people.profile(resolved)

    # -- messages ---------------------------------------------------------------------------

    def apply(self, message: Mapping[str, Any]) -> None:
        """Apply one normalised message."""
        kind = message["type"]
        if kind == "alias":
            self._alias(message)
            return
        key = message["messageId"]
        found = self._named.get(key)
        if found is None:
            found = identifiers(message, region=self.region)
        contact = self.contact_for(found)
        occurred = parse_time(message["timestamp"])
        properties = _properties(message)
        name = str(message["event"]) if kind == "track" else _name(message)
        seen = ScoringEvent(key, occurred, kind, name, properties)
        notes: dict[str, Any] = {}
        self._consent(contact, message, occurred, notes)
        if kind == "identify":
            traits = {k: v for k, v in properties.items() if k != "consent"}
            self._traits(contact, traits, notes)
        elif kind == "track":
            self._well_known(contact, seen, notes)
        received = self._received.get(message["receivedAt"])
        if received is None:
            received = self._received[message["receivedAt"]] = parse_time(message["receivedAt"])
        self.pending.events.add(
            key,
            contact.id,
            message.get("anonymousId"),
            message.get("userId"),
            kind,
            name,
            properties,  # a copy of the message's own, read by the rules and never changed
            _context(message, notes),
            occurred,
            received,
        )
        _touch(contact, occurred)
        moved = lifecycle.on_event(
            self.session, contact, seen, self.rules.lifecycle, pending=self.pending
        )
        scored = scoring.on_event(
            self.session,
            contact,
            seen,
            self.rules.scoring,
            pending=self.pending,
            kept=self.scores,
        )
        if self.triggers is not None and self.triggers.live:
            self._trigger(contact, seen, moved, scored)

    def _trigger(
        self,
        contact: Profile,
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
        user = survivor(self.session, self.contact_for({"user_id": message["userId"]}).id)
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
        self.people.forget()  # the session's objects changed: the profiles are read again
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

    def _traits(self, contact: Profile, traits: Mapping[str, Any], notes: dict[str, Any]) -> None:
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
        contact: Profile,
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

    def _well_known(self, contact: Profile, seen: ScoringEvent, notes: dict[str, Any]) -> None:
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

    def _leave_list(self, contact: Profile, seen: ScoringEvent) -> None:
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


def _touch(contact: Profile, occurred: dt.datetime) -> None:
    # a profile's times are aware (:func:`lealta.identity.profiles.load`)
    first = contact.first_seen_at
    last = contact.last_seen_at
    if first is None or occurred < first:
        contact.first_seen_at = occurred
    if last is None or occurred > last:
        contact.last_seen_at = occurred
