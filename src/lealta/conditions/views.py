"""What conditions see of contacts: their views, loaded for a whole batch at once (for
workflows' runs, on-site slots and the audiences' explanations).

One query for the contact rows (with their loyalty tier) and one per part (tags, lists,
consent, RFM, recent events, loyalty points balances), each over the batch's contacts; the
score is decayed to ``now`` from the stored state (the programme's tier ranks are read once
when a contact has a tier). A part that no contact of the batch needs (see
:func:`lealta.conditions.reads.condition_needs`) costs no query; a contact that does not
need a part gets it empty (a balance of 0).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Text, func, null, select, type_coerce
from sqlalchemy.orm import Session

from lealta.conditions.loading import audiences_of, next_best_of, orders_of, predictions_of
from lealta.conditions.reads import PARTS
from lealta.conditions.view import ContactView, EventView
from lealta.contacts.tables import Consent, Contact, ContactList, ContactTag, ListMembership
from lealta.events.tables import Event
from lealta.loyalty.tables import ContactTier
from lealta.rulesets.service import scoring_model
from lealta.scoring import engine as scoring
from lealta.segmentation.tables import ContactRfm
from lealta.storage.keyed import one_of

HISTORY_DAYS = 400


def contact_views(
    session: Session,
    contact_ids: Sequence[str],
    *,
    now: dt.datetime,
    event_names: Collection[str] | None = None,
) -> dict[str, ContactView]:
    """What the engine sees of each live contact (everything; of the events, only those
    named in ``event_names``, lower-case, when given), in a fixed number of queries."""
    return views(session, dict.fromkeys(contact_ids, PARTS), now=now, event_names=event_names)


def views(
    session: Session,
    needs: Mapping[str, Iterable[str]],
    *,
    now: dt.datetime,
    event_names: Collection[str] | None = None,
) -> dict[str, ContactView]:
    """Views of the live contacts among ``needs``' keys, each with the parts its value names
    (the events named in ``event_names``, lower-case, when given: see
    :func:`lealta.automations.needs.event_names`).

    Erased and merged contacts, and ids of no contact, get no view.
    """
    ids = sorted(needs)
    wanted: dict[str, list[str]] = defaultdict(list)
    for contact_id in ids:
        for part in needs[contact_id]:
            wanted[part].append(contact_id)
    connection = session.connection()
    # Erased and merged contacts are dropped here rather than in SQL: without statistics,
    # SQLite would read "merged_into IS NULL" off its index, every contact of the database.
    contacts = connection.execute(
        select(
            Contact.id,
            json_column(Contact.attributes),
            Contact.lifecycle_stage,
            json_column(Contact.score_state) if wanted["score"] else null(),
            Contact.erased_at,
            Contact.merged_into,
            ContactTier.tier,
        )
        .outerjoin(ContactTier, ContactTier.contact_id == Contact.id)
        .where(one_of(connection, Contact.id, ids))
    ).all()
    ranks = _tier_ranks(session) if any(row[-1] is not None for row in contacts) else {}
    tags = _tags(connection, wanted["tags"])
    lists = _lists(connection, wanted["lists"])
    consent = _consent(connection, wanted["consent"])
    rfm = _rfm(connection, wanted["rfm"])
    events = _events(connection, wanted["events"], now, event_names)
    points = _points(session, wanted["points"])
    orders = orders_of(connection, wanted["orders"], now)
    audiences = audiences_of(connection, wanted["audiences"])
    predictions = predictions_of(connection, wanted["prediction"])
    suggested = next_best_of(connection, wanted["next_best"])
    model = scoring_model(session) if wanted["score"] else None
    found: dict[str, ContactView] = {}
    for contact_id, stored, stage, score_state, erased_at, merged_into, tier in contacts:
        if erased_at is not None or merged_into is not None:
            continue
        attributes = from_json(stored) or {}
        segment, cluster, scores = rfm.get(contact_id, (None, None, {}))
        found[contact_id] = ContactView(
            id=contact_id,
            attributes=attributes,
            tags=frozenset(tags.get(contact_id, ())),
            lists=lists.get(contact_id, {}),
            stage=stage,
            score=_score(model, from_json(score_state), now) if model is not None else 0.0,
            segment=segment,
            cluster=cluster,
            consent=consent.get(contact_id, {}),
            timezone=attributes.get("timezone") or None,
            events=events.get(contact_id, ()),
            tier=tier,
            tier_ranks=ranks,
            points=points.get(contact_id, 0),
            rfm=scores,
            orders=orders.get(contact_id, ()),
            audiences=audiences.get(contact_id, frozenset()),
            prediction=predictions.get(contact_id),
            next_best=suggested.get(contact_id, ()),
        )
    return found


def _points(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """The loyalty points balance of each of ``ids`` that has a ledger entry: the running
    balance of its latest entry (one query over the batch)."""
    from lealta.loyalty.ledger import lasts

    return {contact_id: last.balance for contact_id, last in lasts(session, ids).items()}


def _tier_ranks(session: Session) -> dict[str, int]:
    """The ranks of the loyalty programme's tiers in force by case-folded name (1 = lowest);
    empty without a programme."""
    from lealta.loyalty.service import get

    stored = get(session)
    if stored is None:
        return {}
    return {name.casefold(): rank for rank, name in enumerate(stored.program.tier_names(), 1)}


def json_column(document: Any) -> Any:
    """A JSON column read as the driver gives it: text on SQLite (see :func:`from_json`)."""
    return type_coerce(document, Text).label(document.key)


def from_json(value: Any) -> Any:
    """A document read with :func:`json_column`: parsed with orjson when it came as text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _tags(connection: Connection, ids: Sequence[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    if ids:
        rows = connection.execute(
            select(ContactTag.contact_id, ContactTag.tag).where(
                one_of(connection, ContactTag.contact_id, ids)
            )
        )
        for contact_id, tag in rows:
            found[contact_id].add(tag)
    return found


def _lists(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    if ids:
        rows = connection.execute(
            select(ListMembership.contact_id, ContactList.slug, ListMembership.status)
            .join(ContactList, ContactList.id == ListMembership.list_id)
            .where(one_of(connection, ListMembership.contact_id, ids))
        )
        for contact_id, slug, status in rows:
            found[contact_id][slug] = status
    return found


def _consent(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """The decision in force per channel: the newest row wins."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    if ids:
        rows = connection.execute(
            select(Consent.contact_id, Consent.channel, Consent.status)
            .where(one_of(connection, Consent.contact_id, ids))
            .order_by(Consent.id)
        )
        for contact_id, channel, status in rows:
            found[contact_id][channel] = status
    return found


def _rfm(
    connection: Connection, ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None, dict[str, int]]]:
    """Each scored contact's segment, cluster name and scores (R, F, M, and P when scored)."""
    if not ids:
        return {}
    rows = connection.execute(
        select(
            ContactRfm.contact_id,
            ContactRfm.segment,
            ContactRfm.cluster_name,
            ContactRfm.r,
            ContactRfm.f,
            ContactRfm.m,
            ContactRfm.p,
        ).where(one_of(connection, ContactRfm.contact_id, ids))
    )
    return {
        contact_id: (segment, cluster, {"r": r, "f": f, "m": m} | ({} if p is None else {"p": p}))
        for contact_id, segment, cluster, r, f, m, p in rows
    }


def _events(
    connection: Connection,
    ids: Sequence[str],
    now: dt.datetime,
    names: Collection[str] | None = None,
) -> dict[str, tuple[EventView, ...]]:
    """The contacts' events of the last :data:`HISTORY_DAYS` days, oldest first (only those
    whose lower-cased name is in ``names``, when given)."""
    if not ids or (names is not None and not names):
        return {}
    found: dict[str, list[EventView]] = defaultdict(list)
    since = now - dt.timedelta(days=HISTORY_DAYS)
    query = select(Event.contact_id, Event.name, Event.type, Event.occurred_at, Event.properties)
    if names is not None:
        query = query.where(func.lower(Event.name).in_(sorted(names)))
    rows = connection.execute(
        query.where(one_of(connection, Event.contact_id, ids), Event.occurred_at >= since).order_by(
            Event.occurred_at, Event.id
        )
    )
    for contact_id, name, kind, at, properties in rows:
        found[contact_id].append(EventView(name, kind, _aware(at), properties or {}))
    return {contact_id: tuple(events) for contact_id, events in found.items()}


def _score(model: Any, state: Mapping[str, Any] | None, now: dt.datetime) -> float:
    stored = scoring.ScoreState.from_dict(state) if state else scoring.ScoreState()
    return scoring.current_score(model, stored, now)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
