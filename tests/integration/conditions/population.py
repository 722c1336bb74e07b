"""A small population written to the tables and described as contact views, so the SQL
side and the per-person side of a condition can be compared on the same people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from lealta.affinity.tables import ContactNextBest
from lealta.audiences.tables import Audience, AudienceMember
from lealta.conditions import ContactView, EventView, OrderView
from lealta.contacts.tables import Consent, Contact, ContactList, ContactTag, ListMembership
from lealta.events.tables import Event
from lealta.loyalty.tables import ContactTier, PointsEntry
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.segmentation.tables import ContactRfm

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
TIER_RANKS = {"member": 1, "silver": 2, "gold": 3}


@dataclass(frozen=True)
class Happened:
    """An event ``days`` days before NOW (negative: after it), plus ``seconds``."""

    name: str
    days: int
    properties: Mapping[str, Any] = field(default_factory=dict)
    seconds: int = 0

    def at(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.days, seconds=self.seconds)


@dataclass(frozen=True)
class Bought:
    """An order ``days`` days before NOW."""

    days: int
    amount: str = "0"
    items: Sequence[Mapping[str, Any]] = ()
    seconds: int = 0

    def at(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.days, seconds=self.seconds)


@dataclass(frozen=True)
class Person:
    """Everything the condition language can test of one person."""

    attributes: Mapping[str, Any] = field(default_factory=dict)
    stage: str | None = None
    score: float = 0.0
    tags: frozenset[str] = frozenset()
    lists: Mapping[str, str] = field(default_factory=dict)
    consents: Sequence[tuple[str, str]] = ()  # oldest first
    rfm: tuple[int, int, int, int | None, str, str | None] | None = None  # r f m p segment cluster
    tier: str | None = None
    balances: Sequence[int] = ()  # the ledger's running balances, oldest first
    events: Sequence[Happened] = ()
    orders: Sequence[Bought] = ()
    audiences: frozenset[str] = frozenset()
    prediction: tuple[float, float, str] | None = None  # p_alive, clv, churn band
    next_best: Sequence[tuple[str, str]] = ()  # (kind, item), rank 1 first
    gone: bool = False  # erased

    def view(self, contact_id: str, now: dt.datetime = NOW) -> ContactView:
        consent: dict[str, str] = {}
        for channel, status in self.consents:
            consent[channel] = status
        rfm = {}
        if self.rfm is not None:
            r, f, m, p, _segment, _cluster = self.rfm
            rfm = {"r": r, "f": f, "m": m} | ({} if p is None else {"p": p})
        return ContactView(
            id=contact_id,
            attributes=self.attributes,
            tags=self.tags,
            lists=self.lists,
            stage=self.stage,
            score=self.score,
            segment=None if self.rfm is None else self.rfm[4],
            cluster=None if self.rfm is None else self.rfm[5],
            consent=consent,
            events=[EventView(e.name, "track", e.at(now), dict(e.properties)) for e in self.events],
            tier=self.tier,
            tier_ranks=TIER_RANKS,
            points=self.balances[-1] if self.balances else 0,
            rfm=rfm,
            orders=[OrderView(o.at(now), Decimal(o.amount), o.items) for o in self.orders],
            audiences=self.audiences,
            prediction=None
            if self.prediction is None
            else dict(zip(("p_alive", "clv", "churn_band"), self.prediction, strict=True)),
            next_best=self.next_best,
        )


def contact_id(number: int) -> str:
    return f"{number:032x}"


def write(connection: Connection, people: Sequence[Person], now: dt.datetime = NOW) -> list[str]:
    """Insert ``people`` (ids 1, 2, 3 … in hex) and return their ids."""
    ids = [contact_id(n + 1) for n in range(len(people))]
    connection.execute(
        insert(Contact),
        [
            {
                "id": cid,
                "attributes": dict(p.attributes),
                "lifecycle_stage": p.stage,
                "score": p.score,
                "erased_at": now if p.gone else None,
            }
            for cid, p in zip(ids, people, strict=True)
        ],
    )
    slugs = sorted({slug for p in people for slug in p.lists})
    list_ids = {}
    for slug in slugs:
        connection.execute(insert(ContactList).values(slug=slug, name=slug))
        list_ids[slug] = connection.scalar(select(ContactList.id).where(ContactList.slug == slug))
    names = sorted({name for p in people for name in p.audiences} | {"Empty"})
    audience_ids = {}
    for name in names:
        connection.execute(
            insert(Audience).values(name=name, condition={"kind": "all", "conditions": []})
        )
        audience_ids[name] = connection.scalar(select(Audience.id).where(Audience.name == name))
    rows: dict[Any, list[dict[str, Any]]] = {
        ContactTag: [],
        ListMembership: [],
        Consent: [],
        ContactRfm: [],
        ContactTier: [],
        PointsEntry: [],
        Event: [],
        Order: [],
        AudienceMember: [],
        ContactPrediction: [],
        ContactNextBest: [],
    }
    for cid, p in zip(ids, people, strict=True):
        rows[ContactTag] += [{"contact_id": cid, "tag": tag} for tag in sorted(p.tags)]
        rows[ListMembership] += [
            {"contact_id": cid, "list_id": list_ids[slug], "status": status}
            for slug, status in p.lists.items()
        ]
        rows[Consent] += [
            {"contact_id": cid, "channel": channel, "status": status}
            for channel, status in p.consents
        ]
        if p.rfm is not None:
            r, f, m, pay, segment, cluster = p.rfm
            rows[ContactRfm].append(
                {
                    "contact_id": cid,
                    "recency_days": 1,
                    "frequency": 1,
                    "monetary": 1.0,
                    "payment": None,
                    "r": r,
                    "f": f,
                    "m": m,
                    "p": pay,
                    "code": f"{r}{f}{m}",
                    "segment": segment,
                    "cluster": None,
                    "cluster_name": cluster,
                    "as_of": now,
                }
            )
        if p.prediction is not None:
            p_alive, clv, band = p.prediction
            rows[ContactPrediction].append(
                {
                    "contact_id": cid,
                    "p_alive": p_alive,
                    "expected_purchases": 1.0,
                    "expected_spend": 10.0,
                    "clv": clv,
                    "churn_band": band,
                    "horizon_days": 90,
                    "params_version": "test",
                    "computed_at": now,
                }
            )
        if p.tier is not None:
            rows[ContactTier].append(
                {
                    "contact_id": cid,
                    "tier": p.tier,
                    "tier_rank": TIER_RANKS[p.tier.casefold()],
                    "since": now.date(),
                    "program_version": 1,
                }
            )
        rows[PointsEntry] += [
            {
                "contact_id": cid,
                "seq": seq,
                "kind": "earn",
                "points": 1,
                "balance": balance,
                "key": f"k{seq}",
            }
            for seq, balance in enumerate(p.balances, 1)
        ]
        rows[Event] += [
            {
                "message_id": f"{cid}-{n}",
                "contact_id": cid,
                "type": "track",
                "name": e.name,
                "properties": dict(e.properties),
                "occurred_at": e.at(now),
            }
            for n, e in enumerate(p.events)
        ]
        rows[Order] += [
            {
                "external_id": f"{cid}-{n}",
                "contact_id": cid,
                "placed_at": o.at(now),
                "amount": Decimal(o.amount),
                "items": [dict(item) for item in o.items],
            }
            for n, o in enumerate(p.orders)
        ]
        rows[ContactNextBest] += [
            {
                "contact_id": cid,
                "rank": rank,
                "kind": kind,
                "item": item,
                "score": 1.0 / rank,
                "computed_at": now,
            }
            for rank, (kind, item) in enumerate(p.next_best, 1)
        ]
        rows[AudienceMember] += [
            {"audience_id": audience_ids[name], "contact_id": cid} for name in sorted(p.audiences)
        ]
    for model, values in rows.items():
        if values:
            connection.execute(insert(model), values)
    return ids
