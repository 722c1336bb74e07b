"""What a template sees: the render context, built from the store for many contacts at once.

:func:`contexts_for` reads a batch of contacts in a fixed number of queries (contacts,
identifiers, tags, RFM, the last orders, open vouchers, the scoring model; next-best items and
predictions only when a template uses them), whatever the batch size, and
:func:`message_context` lays one message's details over a contact's context (the workflow
runner puts the triggering event and the vouchers the run issued in the payload).
The keys, as templates use them:

``contact``
    ``id``, ``email``, ``phone``, ``user_id``, ``external_id`` (first identifier of each
    kind), every custom attribute (``first_name``, ``city``, ``birthday`` …; also as
    ``contact.attributes``), ``name``, ``language``, ``timezone``, ``stage`` (lifecycle),
    ``score`` (lead score now), ``tags``, ``created_at``, ``first_seen_at``, ``last_seen_at``,
    ``next_best`` (the suggested next categories or products, best first: ``item``, ``kind``,
    ``score``, ``rank``; empty before the first next-best run, see :mod:`lealta.affinity`),
    ``prediction`` (the latest predicted value: ``p_alive``, ``expected_purchases``,
    ``expected_spend``, ``clv``, ``churn_band``, ``horizon_days``, ``computed_at``; none for a
    contact the latest ``clv`` run did not score, so guard with ``{% if contact.prediction %}``;
    see :mod:`lealta.prediction.store`). Both are read when a template of the batch first
    uses them, for every contact of the batch at once (:mod:`lealta.messages.lazy_contact`).
``purchases``
    The last :data:`PURCHASES` orders, newest first: ``id``, ``placed_at``, ``amount``,
    ``currency``, ``channel``, ``payment_method``, ``items`` (``name``, ``category``,
    ``price``, ``quantity`` …) and ``categories`` (distinct, in item order).
``last_order``
    ``purchases[0]``, absent when there is none.
``rfm``
    ``segment``, ``code``, ``r``, ``f``, ``m``, ``p``, ``recency_days``, ``frequency``,
    ``monetary``, ``payment``, ``cluster``, ``cluster_name``, ``as_of``; absent before the
    first ``lealta rfm --from-store``.
``loyalty``
    The contact's loyalty status under the programme in force: ``tier``, ``since``,
    ``until``, ``qualified_by``, ``score_sum``, ``next_tier`` (the tier above, if any),
    ``program``, ``currency`` and ``benefits`` (each with ``type``, ``code`` and its
    settings: ``percent``, ``amount``, ``min_order`` …); absent without a programme or when
    the contact is in no tier. With a programme with points, ``points``: ``balance``,
    ``value`` (in ``currency``), ``expiring`` (``expires_on`` and ``points`` per day, soonest
    first, within the programme's ``warn_days``, at least 30 days) and ``next_expiry`` (the
    first of them, or none); a contact in no tier who holds points gets ``loyalty`` with
    ``tier`` none and the points. ``progress``: toward the next tier, as on the contact's
    loyalty card (``GET /v1/contacts/{id}/loyalty``): ``next_tier``, ``orders`` and ``spend``
    (what alone would reach it), ``before`` (the day a counted order leaves its window, or
    none) and ``words`` (``2 more orders or €140 to Gold before 31 March``); empty (false)
    when there is no tier above or a score is what is missing. Worked out when a template
    first reads it, for every contact of the batch at once (one assignment), so batches
    whose templates do not read it pay nothing.
``vouchers``
    The contact's vouchers still usable (not redeemed, not expired), newest first.
``voucher``
    The voucher this message is about: ``payload.voucher`` (a code), else the one the
    workflow run saved as ``voucher`` (``payload.saved``), else another code it saved.
    ``code``, ``display`` (grouped for reading), ``kind``, ``value``, ``currency``,
    ``issued_at``, ``expires_at``.
``trigger``
    The event that started the workflow run (``payload.trigger``):
    ``name`` (also ``event``), ``properties``, ``occurred_at`` (also ``at``).
``payload``
    The outbox message's payload (a send step's ``data``, ``workflow``, ``step``); string
    values that are templates (``"{{ trigger.properties.products }}"``) are evaluated first.
``links``
    ``unsubscribe``, ``preferences``, ``survey(score)`` (signed URLs; see
    :mod:`lealta.messages.service`).
``shop``
    ``name`` and ``email`` (from ``email_from``), ``url`` (``public_url``).
``now``
    The moment of rendering (UTC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session

from lealta.contacts.profiles import identifiers_by_kind, rfm_of, score_now, tags_of
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput
from lealta.messages.lazy_contact import BatchReads, LazyContact
from lealta.messages.render import render_value
from lealta.orders.tables import Order
from lealta.rulesets.service import scoring_model
from lealta.segmentation.tables import ContactRfm
from lealta.storage.keyed import one_of
from lealta.vouchers.codes import format_code, normalize_code
from lealta.vouchers.tables import Voucher

PURCHASES = 5
IDENTIFIER_KINDS = ("email", "phone", "user_id", "external_id")
_RUN_INTERNAL = frozenset({"splits", "wait_started", "goal_reached", "ended_at"})
# What a context shows of the contact row (plain rows: ORM objects cost more to build).
_CONTACT_COLUMNS = (
    *(Contact.id, Contact.attributes, Contact.lifecycle_stage, Contact.score),
    *(Contact.score_state, Contact.created_at, Contact.first_seen_at, Contact.last_seen_at),
)


# The keys of a context read with queries of their own, and the names that read them.
_QUERIED = {
    "purchases": frozenset({"purchases", "last_order"}),
    "vouchers": frozenset({"vouchers"}),
    "rfm": frozenset({"rfm"}),
    "loyalty": frozenset({"loyalty"}),
}


def contexts_for(
    session: Session,
    contact_ids: Iterable[str],
    now: dt.datetime,
    *,
    reads: Collection[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The render context of each live contact in ``contact_ids`` (erased ones are left out).

    A fixed number of queries, whatever the number of contacts. ``reads``: the names the
    templates to render may read (:func:`lealta.messages.sandbox.names_read`); the keys none of
    them reads (``purchases`` and ``last_order``, ``vouchers``, ``rfm``, ``loyalty``) are
    left out, and their queries not made. ``None``: every key.
    """
    wanted = {key: reads is None or not names.isdisjoint(reads) for key, names in _QUERIED.items()}
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    contacts = list(
        session.execute(
            select(*_CONTACT_COLUMNS).where(
                one_of(session, Contact.id, ids), Contact.erased_at.is_(None)
            )
        )
    )
    ids = [c.id for c in contacts]
    identifiers = identifiers_by_kind(session, ids)
    tags = tags_of(session, ids)
    rfm = {row.contact_id: _rfm(row) for row in rfm_of(session, ids)} if wanted["rfm"] else {}
    purchases = _purchases(session, ids) if wanted["purchases"] else {}
    vouchers = _open_vouchers(session, ids, now) if wanted["vouchers"] else {}
    loyalty: dict[str, dict[str, Any]] = {}
    if wanted["loyalty"]:
        programme = _programme_in_force(session) if ids else None
        loyalty = _loyalty(session, ids, programme)
        _points(session, ids, now, loyalty, programme)
        batch = BatchProgress(session, list(loyalty), now)
        for cid, entry in loyalty.items():
            entry["progress"] = Progress(batch, cid)
    lazy = BatchReads(session, ids)  # next-best and predictions, when a template asks
    model = scoring_model(session)
    found: dict[str, dict[str, Any]] = {}
    for contact in contacts:
        context: dict[str, Any] = {
            "contact": LazyContact(
                _contact(contact, identifiers.get(contact.id, {}), tags, model, now),
                lazy,
                contact.id,
            ),
        }
        if wanted["purchases"]:
            context["purchases"] = purchases.get(contact.id, [])
        if wanted["vouchers"]:
            context["vouchers"] = vouchers.get(contact.id, [])
        context["now"] = now
        if context.get("purchases"):
            context["last_order"] = context["purchases"][0]
        if contact.id in rfm:
            context["rfm"] = rfm[contact.id]
        if contact.id in loyalty:
            context["loyalty"] = loyalty[contact.id]
        found[contact.id] = context
    return found


def _programme_in_force(session: Session) -> Any:
    """The loyalty programme in force (stored), if any: read once per batch."""
    from lealta.loyalty.service import get as programme_in_force

    return programme_in_force(session)


def _loyalty(session: Session, ids: Sequence[str], stored: Any) -> dict[str, dict[str, Any]]:
    """Each contact's tier with its benefits under the programme in force, ``stored`` (one
    query)."""
    from lealta.loyalty.tables import ContactTier

    if stored is None or not ids:
        return {}
    program = stored.program
    names = [tier.name for tier in program.tiers]
    found: dict[str, dict[str, Any]] = {}
    for row in session.scalars(
        select(ContactTier).where(one_of(session, ContactTier.contact_id, ids))
    ):
        if row.tier not in names:
            continue  # a tier of an older programme, until the next review
        above = names.index(row.tier) + 1
        found[row.contact_id] = {
            "tier": row.tier,
            "since": row.since,
            "until": row.until,
            "qualified_by": row.qualified_by,
            "score_sum": row.score_sum,
            "next_tier": names[above] if above < len(names) else None,
            "program": program.name,
            "currency": program.currency,
            "benefits": [b.model_dump(mode="json") for b in program.benefits_of(row.tier)],
        }
    return found


class BatchProgress:
    """Progress to the next tier of a batch's contacts, worked out once, on first use, for
    all of them (:func:`lealta.loyalty.service.progress_of_many`)."""

    def __init__(self, session: Session, ids: Sequence[str], now: dt.datetime) -> None:
        self.session = session
        self.ids = list(ids)
        self.now = now
        self.found: dict[str, dict[str, Any] | None] | None = None

    def of(self, contact_id: str) -> dict[str, Any]:
        """The contact's progress (empty when none)."""
        if self.found is None:
            from lealta.loyalty.service import progress_of_many

            self.found = progress_of_many(self.session, self.ids, now=self.now)
        return self.found.get(contact_id) or {}


class Progress(Mapping[str, Any]):
    """``loyalty.progress`` of one contact: a read-only mapping that asks its batch on first
    read (``{% if loyalty.progress %}``, ``loyalty.progress.words``)."""

    def __init__(self, batch: BatchProgress, contact_id: str) -> None:
        self._batch = batch
        self._contact_id = contact_id

    def _value(self) -> dict[str, Any]:
        return self._batch.of(self._contact_id)

    def __getitem__(self, key: str) -> Any:
        return self._value()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._value())

    def __len__(self) -> int:
        return len(self._value())

    def __repr__(self) -> str:
        return repr(self._value())


def _points(
    session: Session,
    ids: Sequence[str],
    now: dt.datetime,
    found: dict[str, dict[str, Any]],
    stored: Any,
) -> None:
    """Add ``points`` to each contact's loyalty context under the programme in force,
    ``stored`` (two queries); a contact in no tier who holds points gets a loyalty context
    with ``tier`` None."""
    from lealta.loyalty.ledger import balances

    if stored is None or not ids or stored.program.points is None:
        return
    program = stored.program
    for cid, held in balances(session, ids, program, today=now.date()).items():
        expiring = [{"expires_on": day, "points": points} for day, points in held.expiring]
        entry = found.setdefault(
            cid,
            {
                "tier": None,
                "next_tier": program.tiers[0].name,
                "program": program.name,
                "currency": program.currency,
                "benefits": [],
            },
        )
        entry["points"] = {
            "balance": held.balance,
            "value": held.value,
            "expiring": expiring,
            "next_expiry": expiring[0] if expiring else None,
        }


def _contact(
    contact: Row[Any],
    identifiers: Mapping[str, list[str]],
    tags: Mapping[str, list[str]],
    model: Any,
    now: dt.datetime,
) -> dict[str, Any]:
    attributes = {k: v for k, v in dict(contact.attributes or {}).items() if v is not None}
    values: dict[str, Any] = {**attributes}
    for kind in IDENTIFIER_KINDS:
        if identifiers.get(kind):
            values[kind] = identifiers[kind][0]
    name = attributes.get("name") or " ".join(
        str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k)
    )
    values.update(
        {
            "id": contact.id,
            "attributes": attributes,
            "stage": contact.lifecycle_stage,
            "score": score_now(model, cast(Contact, contact), now),  # its score columns
            "tags": tags.get(contact.id, []),
            "created_at": contact.created_at,
            "first_seen_at": contact.first_seen_at,
            "last_seen_at": contact.last_seen_at,
        }
    )
    if name:
        values["name"] = name
    return values


def _rfm(row: ContactRfm) -> dict[str, Any]:
    names = ("segment", "code", "r", "f", "m", "p", "recency_days", "frequency", "monetary")
    values = {name: getattr(row, name) for name in names}
    values.update(
        payment=row.payment, cluster=row.cluster, cluster_name=row.cluster_name, as_of=row.as_of
    )
    return values


def _purchases(session: Session, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The last orders of each contact, newest first, in one query."""
    rank = (
        func.row_number()
        .over(partition_by=Order.contact_id, order_by=(Order.placed_at.desc(), Order.id.desc()))
        .label("rank")
    )
    ranked = select(Order.id, rank).where(one_of(session, Order.contact_id, ids)).subquery()
    rows = session.scalars(
        select(Order)
        .join(ranked, ranked.c.id == Order.id)
        .where(ranked.c.rank <= PURCHASES)
        .order_by(Order.contact_id, Order.placed_at.desc(), Order.id.desc())
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for order in rows:
        items = [dict(item) for item in order.items or [] if isinstance(item, Mapping)]
        categories = list(dict.fromkeys(str(i["category"]) for i in items if i.get("category")))
        found.setdefault(order.contact_id, []).append(
            {
                "id": order.external_id,
                "placed_at": order.placed_at,
                "amount": order.amount,
                "currency": order.currency,
                "channel": order.channel,
                "payment_method": order.payment_method,
                "items": items,
                "categories": categories,
            }
        )
    return found


def voucher_view(voucher: Voucher) -> dict[str, Any]:
    """A voucher as templates see it."""
    return {
        "code": voucher.code,
        "display": format_code(voucher.code),
        "kind": voucher.kind,
        "value": voucher.value,
        "currency": voucher.currency,
        "issued_at": voucher.issued_at,
        "expires_at": voucher.expires_at,
    }


def _open_vouchers(
    session: Session, ids: Sequence[str], now: dt.datetime
) -> dict[str, list[dict[str, Any]]]:
    rows = session.scalars(
        select(Voucher)
        .where(
            one_of(session, Voucher.contact_id, ids),
            Voucher.redeemed_at.is_(None),
            or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
        )
        .order_by(Voucher.issued_at.desc(), Voucher.code)
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for voucher in rows:
        found.setdefault(voucher.contact_id, []).append(voucher_view(voucher))
    return found


def _saved(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _RUN_INTERNAL}


def voucher_codes(payload: Mapping[str, Any] | None) -> list[str]:
    """The voucher codes a message may show: ``payload.voucher``, then what the workflow run
    saved (``payload.saved``: ``voucher`` first)."""
    payload = payload or {}
    saved = _saved(_mapping(payload.get("saved")))
    candidates = [payload.get("voucher"), saved.get("voucher"), *saved.values()]
    return [c for c in (_code(v) for v in candidates) if c]


def vouchers_by_code(session: Session, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The vouchers with these canonical codes, as templates see them (one query)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.scalars(select(Voucher).where(Voucher.code.in_(wanted)))
    return {v.code: voucher_view(v) for v in rows}


def message_context(
    base: Mapping[str, Any],
    *,
    payload: Mapping[str, Any] | None = None,
    vouchers: Mapping[str, Mapping[str, Any]] | None = None,
    links: Mapping[str, Any] | None = None,
    shop: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A contact's ``base`` context with one message's details laid over it (see the module
    docstring). ``vouchers`` are the known vouchers by code. Template strings in ``payload``
    are evaluated against that context, except under ``trigger`` and ``saved``: those hold
    what a tracked event carried and what the run saved, data from outside that is never
    evaluated (a product named ``{{ … }}`` stays that text)."""
    context = dict(base)
    raw = dict(payload or {})
    trigger = _mapping(raw.get("trigger"))
    if trigger:
        context["trigger"] = trigger_view(trigger)
    given = raw.get("voucher")
    if isinstance(given, Mapping):
        context["voucher"] = dict(given)
    else:
        known = vouchers or {}
        chosen = next((known[c] for c in voucher_codes(raw) if c in known), None)
        if chosen is not None:
            context["voucher"] = dict(chosen)
    context["links"] = dict(links or {})
    context["shop"] = dict(shop or {})
    authored = {k: v for k, v in raw.items() if k not in DATA_KEYS}
    context["payload"] = {
        **(render_value(authored, context, label="payload") if authored else {}),
        **{k: raw[k] for k in DATA_KEYS if k in raw},
    }
    return context


# Payload keys holding data from outside the template's author (see message_context).
DATA_KEYS = ("trigger", "saved")


def trigger_view(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """The triggering event as templates see it: ``name`` (also ``event``), ``properties``,
    ``occurred_at`` (also ``at``), whichever spelling the source used."""
    name = trigger.get("name") or trigger.get("event")
    at = trigger.get("occurred_at") or trigger.get("at")
    return {
        **trigger,
        "name": name,
        "event": name,
        "properties": _mapping(trigger.get("properties")),
        "occurred_at": at,
        "at": at,
    }


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _code(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalize_code(value)
    except InvalidInput:
        return None
