"""Exporting everything Lealta holds on one person as one JSON document (access, portability).

The document covers the contact and every profile merged into it: identifiers, attributes,
tags, list memberships, consent history with its proof, events, orders, stage and score
history, the latest RFM row, the loyalty tier with its history, the tiers given by decision
(with their reason, expired ones too), and the loyalty points ledger. Times are ISO 8601 in
UTC, amounts decimal strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.affinity.tables import ContactNextBest
from lealta.audiences.members import memberships
from lealta.automations.tables import Run
from lealta.channels.tables import OutboxMessage
from lealta.contacts.profiles import rfm_of
from lealta.contacts.schemas import as_utc
from lealta.contacts.service import get_live, person_ids
from lealta.contacts.tables import (
    Consent,
    Contact,
    ContactList,
    ContactTag,
    Identifier,
    ListMembership,
)
from lealta.events.tables import Event
from lealta.lifecycle.tables import StageChange
from lealta.loyalty.tables import ContactTier, PointsEntry, TierChange, TierOverride
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.scoring.tables import ScoreChange
from lealta.vouchers.tables import Voucher

FORMAT = "lealta.contact-export/1"


def plain(value: Any) -> Any:
    """``value`` with times, dates and decimals made JSON-friendly (recursively)."""
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: plain(getattr(row, name)) for name in names}


def export_contact(session: Session, contact_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """The export document of the person ``contact_id`` is (merged ids resolve to them).

    Raises
    ------
    NotFound
        No such contact.
    ContactErased
        The contact was erased: there is nothing left to export.
    """
    contact = get_live(session, contact_id)
    ids = person_ids(session, contact.id)
    return {
        "format": FORMAT,
        "exported_at": plain(now),
        "contact": {
            **_columns(
                contact,
                (
                    "id",
                    "created_at",
                    "updated_at",
                    "lifecycle_stage",
                    "score",
                    "first_seen_at",
                    "last_seen_at",
                ),
            ),
            "merged_ids": ids[1:],
        },
        "attributes": plain(dict(contact.attributes)),
        "merged_profiles": _merged_profiles(session, ids[1:]),
        "identifiers": _rows(
            session, Identifier, ids, Identifier.id, ("kind", "value", "created_at")
        ),
        "tags": _rows(session, ContactTag, ids, ContactTag.tag, ("tag", "created_at")),
        "lists": _lists(session, ids),
        "consents": _rows(
            session,
            Consent,
            ids,
            Consent.id,
            ("channel", "status", "source", "proof", "recorded_at"),
        ),
        "events": _rows(session, Event, ids, Event.occurred_at, _EVENT_COLUMNS),
        "orders": _rows(session, Order, ids, Order.placed_at, _ORDER_COLUMNS),
        "stage_history": _rows(
            session,
            StageChange,
            ids,
            StageChange.changed_at,
            ("from_stage", "to_stage", "rule_id", "cause", "changed_at"),
        ),
        "score_history": _rows(
            session,
            ScoreChange,
            ids,
            ScoreChange.occurred_at,
            ("rule_id", "points", "score_after", "event_key", "occurred_at"),
        ),
        "rfm": _rfm(session, ids),
        "next_best": _rows(
            session,
            ContactNextBest,
            ids,
            ContactNextBest.rank,
            ("rank", "item", "kind", "score", "computed_at"),
        ),
        "predicted_value": _rows(
            session,
            ContactPrediction,
            ids,
            ContactPrediction.contact_id,
            (
                "contact_id",
                "p_alive",
                "expected_purchases",
                "expected_spend",
                "clv",
                "churn_band",
                "horizon_days",
                "params_version",
                "computed_at",
            ),
        ),
        "audiences": memberships(session, ids),
        "loyalty_tier": _tier(session, ids),
        "loyalty_tier_history": _rows(
            session,
            TierChange,
            ids,
            TierChange.changed_at,
            ("from_tier", "to_tier", "reason", "program_version", "changed_at"),
        ),
        "loyalty_overrides": _rows(
            session,
            TierOverride,
            ids,
            TierOverride.set_at,
            ("tier", "reason", "until", "set_by", "set_at"),
        ),
        "loyalty_points": _rows(
            session,
            PointsEntry,
            ids,
            PointsEntry.id,
            (
                "seq",
                "kind",
                "points",
                "balance",
                "reason",
                "order_id",
                "voucher_code",
                "rule",
                "expires_on",
                "unrecovered",
                "created_at",
            ),
        ),
        "workflow_runs": _rows(
            session,
            Run,
            ids,
            Run.entered_at,
            (
                "workflow_id",
                "version",
                "status",
                "step_id",
                "entered_at",
                "ended_at",
                "exit_reason",
            ),
        ),
        "messages": _rows(
            session,
            OutboxMessage,
            ids,
            OutboxMessage.id,
            ("channel", "template", "status", "created_at", "sent_at", "payload"),
        ),
        "vouchers": _rows(
            session,
            Voucher,
            ids,
            Voucher.issued_at,
            ("code", "kind", "value", "currency", "issued_at", "expires_at", "redeemed_at"),
        ),
    }


_RUN_COLUMNS = (
    "workflow_id",
    "version",
    "status",
    "step_id",
    "entered_at",
    "ended_at",
    "exit_reason",
)
_EVENT_COLUMNS = (
    "message_id",
    "type",
    "name",
    "anonymous_id",
    "user_id",
    "properties",
    "context",
    "occurred_at",
    "received_at",
)
_ORDER_COLUMNS = (
    "external_id",
    "placed_at",
    "amount",
    "currency",
    "channel",
    "payment_method",
    "due_date",
    "paid_date",
    "items",
)


def _rows(
    session: Session, table: Any, ids: list[str], order: Any, names: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = session.scalars(select(table).where(table.contact_id.in_(ids)).order_by(order))
    return [_columns(row, names) for row in rows]


def _merged_profiles(session: Session, merged: list[str]) -> list[dict[str, Any]]:
    """The profiles merged into the contact, with the attributes they still hold."""
    rows = session.scalars(select(Contact).where(Contact.id.in_(merged)).order_by(Contact.id))
    return [_columns(row, ("id", "created_at", "merged_into", "attributes")) for row in rows]


def _lists(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ContactList.slug, ContactList.name, ListMembership)
        .join(ListMembership, ListMembership.list_id == ContactList.id)
        .where(ListMembership.contact_id.in_(ids))
        .order_by(ContactList.slug)
    )
    return [
        {"slug": slug, "name": name}
        | _columns(membership, ("status", "source", "created_at", "updated_at"))
        for slug, name, membership in rows
    ]


def _rfm(session: Session, ids: list[str]) -> dict[str, Any] | None:
    rows = rfm_of(session, ids)
    if not rows:
        return None
    row = rows[0]
    return _columns(
        row,
        (
            "recency_days",
            "frequency",
            "monetary",
            "payment",
            "r",
            "f",
            "m",
            "p",
            "code",
            "segment",
            "cluster",
            "cluster_name",
            "as_of",
            "computed_at",
        ),
    )


def _tier(session: Session, ids: list[str]) -> dict[str, Any] | None:
    """The person's current tier: the survivor's (a merge drops the merged profile's)."""
    found = session.scalars(select(ContactTier).where(ContactTier.contact_id.in_(ids)))
    rows = {row.contact_id: row for row in found}
    row = next((rows[i] for i in ids if i in rows), None)
    if row is None:
        return None
    return _columns(
        row,
        (
            "tier",
            "since",
            "until",
            "falling_since",
            "score_sum",
            "qualified_by",
            "program_version",
            "computed_at",
        ),
    )
