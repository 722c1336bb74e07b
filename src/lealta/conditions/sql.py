"""Everyone a condition holds of, as one SQL query (SQLAlchemy Core, bound parameters only).

:func:`members_query` compiles a condition tree into ``SELECT contacts.id AS contact_id``
with one test per leaf: an ``IN`` over the concept's own table for facts stored once per
person (tags, lists, consent, RFM, tier, audiences), a correlated ``EXISTS`` or bounded count
over the person's rows for events and orders, and JSON reads of ``contacts.attributes``.
``all``/``any``/``not`` become ``AND``/``OR``/``NOT``; every leaf is two-valued (never NULL),
so ``NOT`` is exact. Erased and merged contacts are never members, as in contact search.

The indexes it reads: ``contacts`` by primary key (the scan), ``ix_events_contact_name_time``
(contact, lower(name), time) for event counts and messages, ``ix_orders_contact_time`` for
orders, ``ix_consents_contact_channel`` for the consent in force,
``uq_loyalty_points_contact_seq`` for the latest points balance, ``ix_events_name_time``
(lower(name), time) for event counts and messages compiled ``setwise`` (see
:func:`members_query`), the primary keys of
``contact_tags`` (and its ``tag`` index), ``list_memberships``, ``contact_rfm``,
``contact_tiers`` and ``audience_members``, ``ix_contact_next_best_item`` (kind, item, rank).

Where the SQL side reads stored figures, it reads what contact search reads: the stored lead
score (``contacts.score``, decayed when it was last updated; the per-person side decays it to
``now``) and, for ``loyalty_tier`` with ``at_least``, the tier ranks given (by default the
ranks stored with each contact's tier). Events of any age count here, while a workflow's
contact view holds its last 400 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter

from lealta.conditions import model
from lealta.conditions.dialects import Either, boolean, predicate, sure
from lealta.conditions.json_sql import json_value, property_test, same
from lealta.conditions.view import aware_utc
from lealta.contacts.tables import Consent, Contact, ContactList, ContactTag, ListMembership
from lealta.errors import InvalidInput
from lealta.events.tables import Event
from lealta.loyalty.tables import ContactTier, PointsEntry
from lealta.orders.tables import Order
from lealta.prediction.tables import ContactPrediction
from lealta.segmentation.tables import ContactRfm

# The saved audiences' tables (lealta.audiences.tables), named here by their shape only: the
# condition language does not depend on the package that keeps audiences.
_audiences = table("audiences", column("id"), column("name", String))
_members = table("audience_members", column("audience_id"), column("contact_id", String))
# lealta.affinity.tables.ContactNextBest, by shape too
_next_best = table(
    "contact_next_best",
    column("contact_id", String),
    column("rank"),
    column("item", String),
    column("kind", String),
)


class People:
    """A few people a query is restricted to (a tracking batch's), as one parameter however
    often the query tests it: an ``IN`` list on SQLite, ``= ANY(array)`` on PostgreSQL."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self._sqlite: BindParameter[Any] = bindparam("people", self.ids, expanding=True)
        self._postgresql: BindParameter[Any] = bindparam("people", self.ids, type_=ARRAY(String))

    def have(self, contact_id: Any) -> ColumnElement[bool]:
        """``contact_id`` is one of these people."""
        return predicate(
            sqlite=contact_id.in_(self._sqlite), postgresql=contact_id == any_(self._postgresql)
        )


class _Compiler:
    """Compiles one tree at one moment."""

    def __init__(
        self,
        now: dt.datetime,
        tier_ranks: Mapping[str, int] | None,
        *,
        setwise: bool = False,
        people: People | None = None,
    ) -> None:
        self.now = now
        self.setwise = setwise
        self.people = people
        self.tier_ranks = (
            None if tier_ranks is None else {k.casefold(): v for k, v in tier_ranks.items()}
        )

    def since(self, within_days: int | None) -> dt.datetime | None:
        return None if within_days is None else self.now - dt.timedelta(days=within_days)

    def of_people(self, contact_id: Any) -> list[ColumnElement[bool]]:
        """The test keeping a subquery's rows to the people the query is restricted to (none
        when it is not): the subquery then starts from their rows (see :func:`members_query`)."""
        return [] if self.people is None else [self.people.have(contact_id)]

    def test(self, spec: Any, field: str) -> ColumnElement[bool]:
        if isinstance(spec, model.AllOf):
            parts = [
                self.test(inner, f"{field}.conditions.{i}")
                for i, inner in enumerate(spec.conditions)
            ]
            return and_(true(), *parts)
        if isinstance(spec, model.AnyOf):
            parts = [
                self.test(inner, f"{field}.conditions.{i}")
                for i, inner in enumerate(spec.conditions)
            ]
            return or_(false(), *parts)
        if isinstance(spec, model.Not):
            return not_(self.test(spec.condition, f"{field}.condition"))
        leaf = _LEAVES.get(type(spec))
        if leaf is None:
            raise InvalidInput(
                f"{field}: {spec.kind} cannot be tested outside a workflow", field=field
            )
        return leaf(self, spec, field)

    # --- facts kept on the contact row -------------------------------------------------

    def attribute(self, spec: model.AttributeCondition, field: str) -> ColumnElement[bool]:
        return property_test(Contact.attributes, spec.test, field=field)

    def stage(self, spec: model.StageCondition, field: str) -> ColumnElement[bool]:
        return sure(Contact.lifecycle_stage.in_(spec.in_))

    def score(self, spec: model.ScoreCondition, field: str) -> ColumnElement[bool]:
        tests = []
        if spec.gte is not None:
            tests.append(Contact.score >= spec.gte)
        if spec.lte is not None:
            tests.append(Contact.score <= spec.lte)
        return sure(and_(*tests))

    # --- facts kept once per person in a table of their own ---------------------------

    def tag(self, spec: model.TagCondition, field: str) -> ColumnElement[bool]:
        tagged = Contact.id.in_(
            select(ContactTag.contact_id).where(
                ContactTag.tag == spec.tag, *self.of_people(ContactTag.contact_id)
            )
        )
        return tagged if spec.present else not_(tagged)

    def list_(self, spec: model.ListCondition, field: str) -> ColumnElement[bool]:
        return Contact.id.in_(
            select(ListMembership.contact_id)
            .join(ContactList, ContactList.id == ListMembership.list_id)
            .where(
                ContactList.slug == spec.list,
                ListMembership.status == spec.status,
                *self.of_people(ListMembership.contact_id),
            )
        )

    def rfm_row(self, *tests: ColumnElement[bool]) -> ColumnElement[bool]:
        return Contact.id.in_(
            select(ContactRfm.contact_id).where(*tests, *self.of_people(ContactRfm.contact_id))
        )

    def segment(self, spec: model.SegmentCondition, field: str) -> ColumnElement[bool]:
        return self.rfm_row(ContactRfm.segment.in_(spec.in_))

    def cluster(self, spec: model.ClusterCondition, field: str) -> ColumnElement[bool]:
        return self.rfm_row(ContactRfm.cluster_name.in_(spec.in_))

    def rfm(self, spec: model.RfmCondition, field: str) -> ColumnElement[bool]:
        tests = []
        for letter, wanted in spec.ranges().items():
            score = getattr(ContactRfm, letter)
            if wanted.gte is not None:
                tests.append(score >= wanted.gte)
            if wanted.lte is not None:
                tests.append(score <= wanted.lte)
        return self.rfm_row(*tests)

    def prediction(self, spec: model.PredictionCondition, field: str) -> ColumnElement[bool]:
        tests: list[ColumnElement[bool]] = []
        for name, wanted in (("p_alive", spec.p_alive), ("clv", spec.clv)):
            value = getattr(ContactPrediction, name)
            if wanted is not None and wanted.gte is not None:
                tests.append(value >= wanted.gte)
            if wanted is not None and wanted.lte is not None:
                tests.append(value <= wanted.lte)
        if spec.churn_band is not None:
            tests.append(ContactPrediction.churn_band == spec.churn_band)
        tests += self.of_people(ContactPrediction.contact_id)
        return Contact.id.in_(select(ContactPrediction.contact_id).where(*tests))

    def consent(self, spec: model.ConsentCondition, field: str) -> ColumnElement[bool]:
        newer = aliased(Consent)
        superseded = exists(
            select(newer.id).where(
                newer.contact_id == Consent.contact_id,
                newer.channel == Consent.channel,
                newer.id > Consent.id,
            )
        )
        return Contact.id.in_(
            select(Consent.contact_id).where(
                Consent.channel == spec.channel,
                Consent.status == spec.status,
                ~superseded,
                *self.of_people(Consent.contact_id),
            )
        )

    def loyalty_tier(self, spec: model.LoyaltyTierCondition, field: str) -> ColumnElement[bool]:
        tier = func.lower(ContactTier.tier)
        tests: list[ColumnElement[bool]]
        if spec.in_ is not None:
            tests = [tier.in_(sorted({name.casefold() for name in spec.in_}))]
        elif spec.at_least is None:
            tests = []
        elif self.tier_ranks is not None:
            need = self.tier_ranks.get(spec.at_least.casefold())
            names = (
                [] if need is None else [n for n, rank in self.tier_ranks.items() if rank >= need]
            )
            tests = [tier.in_(sorted(names))]
        else:
            need_rank = select(func.min(ContactTier.tier_rank)).where(
                func.lower(ContactTier.tier) == spec.at_least.casefold()
            )
            tests = [ContactTier.tier_rank >= need_rank.scalar_subquery()]
        tests += self.of_people(ContactTier.contact_id)
        return Contact.id.in_(select(ContactTier.contact_id).where(*tests))

    def loyalty_points(self, spec: model.LoyaltyPointsCondition, field: str) -> ColumnElement[bool]:
        latest = (
            select(PointsEntry.balance)
            .where(PointsEntry.contact_id == Contact.id)
            .order_by(PointsEntry.seq.desc())
            .limit(1)
            .scalar_subquery()
        )
        balance = func.coalesce(latest, 0)
        tests = []
        if spec.gte is not None:
            tests.append(balance >= spec.gte)
        if spec.lte is not None:
            tests.append(balance <= spec.lte)
        return sure(and_(*tests))

    def audience(self, spec: model.AudienceCondition, field: str) -> ColumnElement[bool]:
        return Contact.id.in_(
            select(_members.c.contact_id)
            .join(_audiences, _audiences.c.id == _members.c.audience_id)
            .where(_audiences.c.name == spec.audience, *self.of_people(_members.c.contact_id))
        )

    def next_best(self, spec: model.NextBestCondition, field: str) -> ColumnElement[bool]:
        kind, item = spec.wanted
        return Contact.id.in_(
            select(_next_best.c.contact_id).where(
                _next_best.c.kind == kind,
                _next_best.c.item == item,
                _next_best.c.rank <= spec.top,
                *self.of_people(_next_best.c.contact_id),
            )
        )

    # --- the person's events and orders -------------------------------------------------

    def events(self, name: str, within_days: int | None) -> list[ColumnElement[bool]]:
        """The tests of events of ``name`` in a window ending now (anyone's: callers that
        probe one person's events add :func:`_theirs`). ``lower(name)`` as in the indexes."""
        tests = [
            func.lower(Event.name) == name.lower(),
            Event.occurred_at <= self.now,
        ]
        since = self.since(within_days)
        if since is not None:
            tests.append(Event.occurred_at > since)
        return tests

    def event_count(self, spec: model.EventCountCondition, field: str) -> ColumnElement[bool]:
        where = [
            property_test(Event.properties, test, field=f"{field}.where.{i}")
            for i, test in enumerate(spec.where)
        ]
        window = self.events(spec.event, spec.within_days)
        if spec.latest:
            newer = aliased(Event)
            later = exists(
                select(newer.id).where(
                    newer.contact_id == Event.contact_id,
                    func.lower(newer.name) == spec.event.lower(),
                    newer.occurred_at <= self.now,
                    or_(
                        newer.occurred_at > Event.occurred_at,
                        and_(newer.occurred_at == Event.occurred_at, newer.id > Event.id),
                    ),
                )
            )
            counted = exists(select(Event.id).where(_theirs(), *window, *where, ~later))
            return _count_in(case((counted, 1), else_=0), spec.gte, spec.lte)
        # "at least n" is "an n-th one exists": the probe stops at the n-th event of the
        # contact's index range instead of counting them all. Set-wise, the window's events
        # of that name are read once (ix_events_name_time) and grouped by person instead.
        matching = select(Event.id).where(_theirs(), *window, *where)
        theirs = [*window, *where, *self.of_people(Event.contact_id)]
        tests: list[ColumnElement[bool]] = [true()]
        if spec.gte > 0 and self.setwise:
            tests.append(_having_at_least(theirs, spec.gte))
        elif spec.gte > 0:
            probe = exists(matching.offset(spec.gte - 1).limit(1))
            tests.append(self.few(probe, _having_at_least(theirs, spec.gte, once=True)))
        if spec.lte is not None:
            fewer = ~exists(matching.offset(spec.lte).limit(1))
            more = _having_at_least(theirs, spec.lte + 1, once=True)
            tests.append(self.few(fewer, not_(more)))
        return and_(*tests)

    def few(self, probe: ColumnElement[bool], grouped: ColumnElement[bool]) -> ColumnElement[bool]:
        """A test of the person's events: ``probe`` (correlated, per person) unless the query
        is restricted to a few people; then ``grouped`` (their events read once and grouped) on
        PostgreSQL, whose planner may probe each person through ``ix_events_name_time``
        (the whole window each time) when its statistics lag a growing table, and ``probe``
        still on SQLite, which plans the grouped read on that index instead."""
        if self.people is None:
            return probe
        return boolean(sqlite=probe, postgresql=grouped)

    def message(self, spec: model.MessageCondition, field: str) -> ColumnElement[bool]:
        template = json_value(Event.properties, "template", field=field)
        opened = and_(template.kind == "text", template.text == spec.template)
        tests = [*self.events(model.MESSAGE_EVENTS[spec.action], spec.within_days), sure(opened)]
        if self.setwise:
            return _having_at_least(tests, 1)
        probe = exists(select(Event.id).where(_theirs(), *tests))
        theirs = [*tests, *self.of_people(Event.contact_id)]
        return self.few(probe, _having_at_least(theirs, 1, once=True))

    def orders(self, within_days: int | None) -> list[ColumnElement[bool]]:
        tests = [Order.contact_id == Contact.id, Order.placed_at <= self.now]
        since = self.since(within_days)
        if since is not None:
            tests.append(Order.placed_at > since)
        return tests

    def bought(self, spec: model.BoughtCondition, field: str) -> ColumnElement[bool]:
        window = self.orders(spec.within_days)
        if spec.product is None and spec.category is None:
            if spec.measure == "orders":
                figure: Any = select(func.count(Order.id)).where(*window).scalar_subquery()
            elif spec.measure == "amount":
                total = (
                    select(func.coalesce(func.sum(Order.amount), 0))
                    .where(*window)
                    .scalar_subquery()
                )
                figure = _cents(total)
            else:
                figure = _lines_figure(spec, window, field)
        else:
            figure = _lines_figure(spec, window, field)
        tests: list[ColumnElement[bool]] = []
        if spec.gte is None and spec.lte is None:
            tests.append(figure > 0)
        if spec.gte is not None:
            tests.append(figure >= spec.gte)
        if spec.lte is not None:
            tests.append(figure <= spec.lte)
        return sure(and_(*tests))


def _theirs() -> ColumnElement[bool]:
    """An event is the tested contact's (correlates a probe of one person's events)."""
    return Event.contact_id == Contact.id


def _having_at_least(
    tests: list[ColumnElement[bool]], times: int, *, once: bool = False
) -> ColumnElement[bool]:
    """The contact has ``times`` (at least 1) events passing ``tests``, set-wise: one read of
    the events the tests select, grouped by person (never NULL: anonymous events are left
    out, so ``NOT`` of it stays exact). ``once``: read in a ``MATERIALIZED`` common table
    expression (PostgreSQL), computed once per statement even where the planner, short of
    statistics, would read it again for every person."""
    theirs = select(Event.contact_id).where(Event.contact_id.is_not(None), *tests)
    if times > 1:
        theirs = theirs.group_by(Event.contact_id).having(func.count() >= times)
    if once:
        found = theirs.cte().prefix_with("MATERIALIZED")
        return Contact.id.in_(select(found.c.contact_id))
    return Contact.id.in_(theirs)


def _count_in(count: Any, gte: int, lte: int | None) -> ColumnElement[bool]:
    tests = [count >= gte]
    if lte is not None:
        tests.append(count <= lte)
    return sure(and_(*tests))


def _cents(amount: Any) -> ColumnElement[float]:
    """An amount rounded to the cent (numeric on PostgreSQL, whose round takes no float)."""
    return Either(
        sqlite=func.round(amount, 2),
        postgresql=func.round(cast(amount, Numeric), 2),
        type_=Float(),
    )


def _lines_figure(
    spec: model.BoughtCondition, window: list[ColumnElement[bool]], field: str
) -> Any:
    """The figure of the counted order lines, per dialect (``json_each`` on SQLite,
    ``jsonb_array_elements`` on PostgreSQL)."""
    built = []
    for each in (
        func.json_each(Order.items).table_valued("value"),
        func.jsonb_array_elements(Order.items).table_valued("value"),
    ):
        line = each.c.value
        tests = []
        if spec.product is not None:
            tests.append(same(json_value(line, "product_id", field=field), spec.product, field))
        if spec.category is not None:
            tests.append(same(json_value(line, "category", field=field), spec.category, field))
        quantity = func.coalesce(json_value(line, "quantity", field=field).number, 1)
        price = func.coalesce(json_value(line, "price", field=field).number, 0)
        figure: Select[Any]
        if spec.measure == "orders":
            figure = (
                select(func.count(func.distinct(Order.id))).select_from(Order).join(each, true())
            )
        elif spec.measure == "quantity":
            figure = (
                select(func.coalesce(func.sum(quantity), 0)).select_from(Order).join(each, true())
            )
        else:
            figure = (
                select(func.coalesce(func.sum(price * quantity), 0))
                .select_from(Order)
                .join(each, true())
            )
        built.append(figure.where(*window, *tests).scalar_subquery())
    lite, pg = built
    if spec.measure == "amount":
        return _cents(Either(sqlite=lite, postgresql=pg, type_=Float()))
    return Either(sqlite=lite, postgresql=pg, type_=Float())


_LEAVES: dict[type, Callable[[_Compiler, Any, str], ColumnElement[bool]]] = {
    model.AttributeCondition: _Compiler.attribute,
    model.TagCondition: _Compiler.tag,
    model.ListCondition: _Compiler.list_,
    model.StageCondition: _Compiler.stage,
    model.ScoreCondition: _Compiler.score,
    model.SegmentCondition: _Compiler.segment,
    model.ClusterCondition: _Compiler.cluster,
    model.RfmCondition: _Compiler.rfm,
    model.ConsentCondition: _Compiler.consent,
    model.EventCountCondition: _Compiler.event_count,
    model.MessageCondition: _Compiler.message,
    model.BoughtCondition: _Compiler.bought,
    model.LoyaltyTierCondition: _Compiler.loyalty_tier,
    model.LoyaltyPointsCondition: _Compiler.loyalty_points,
    model.AudienceCondition: _Compiler.audience,
    model.PredictionCondition: _Compiler.prediction,
    model.NextBestCondition: _Compiler.next_best,
}


def live() -> ColumnElement[bool]:
    """Contacts that are neither erased nor merged into another.

    On SQLite ``coalesce(merged_into, '') = ''`` keeps the planner from reading
    ``merged_into IS NULL`` off its partial index (nearly every contact), as contact search
    does; PostgreSQL plans the plain test well."""
    unmerged = boolean(
        sqlite=func.coalesce(Contact.merged_into, "") == "",
        postgresql=Contact.merged_into.is_(None),
    )
    return and_(unmerged, Contact.erased_at.is_(None))


def condition_test(
    condition: model.ConditionSpec,
    *,
    now: dt.datetime,
    tier_ranks: Mapping[str, int] | None = None,
    field: str = "condition",
    setwise: bool = False,
    people: People | None = None,
) -> ColumnElement[bool]:
    """The test ``condition`` makes of a row of ``contacts`` (for callers that select more
    than the id, or combine it with their own filters); ``setwise`` and ``people`` as in
    :func:`members_query` (with ``people``, the caller keeps the rows to them:
    ``people.have(Contact.id)``)."""
    refused = model.run_only(condition)
    if refused:
        raise InvalidInput(
            f"{field}: {', '.join(refused)} can only be tested in a workflow run", field=field
        )
    compiler = _Compiler(aware_utc(now, "now"), tier_ranks, setwise=setwise, people=people)
    return compiler.test(condition, field)


def members_query(
    condition: model.ConditionSpec,
    *,
    now: dt.datetime,
    tier_ranks: Mapping[str, int] | None = None,
    setwise: bool = False,
    people: People | None = None,
) -> Select[str]:
    """The ids (column ``contact_id``) of the live contacts ``condition`` holds of at ``now``.

    Parameters
    ----------
    condition
        The condition; run-only tests (see :func:`lealta.conditions.model.run_only`) are
        refused with ``InvalidInput``, as are operators SQL cannot test (``regex``).
    now
        The moment (timezone-aware): the end of every window; later events and orders are
        ignored.
    tier_ranks
        The loyalty programme's tier ranks by name (1 = lowest), for ``loyalty_tier`` with
        ``at_least``; None reads the ranks stored with the contacts' tiers.
    setwise
        True when the query reads the whole store (a refresh, an exact count, a funnel):
        ``event_count`` (at least n) and ``message`` then read the window's events of their
        name once (``ix_events_name_time``) and group them by person. False (the default)
        probes each contact's own events instead (``ix_events_contact_name_time``), the
        faster way when the caller restricts the query to a few people (the live path, an
        estimate's slice, an explanation). Both find the same people.
    people
        Only these people (the live path's batch): every subquery over a table of facts or
        events keeps to their rows too, and ``event_count`` and ``message`` read their events
        of that name once and group them (``ix_events_contact_name_time``), so the plan
        starts from the few people whatever the statistics say (a probe per person could be
        planned on ``ix_events_name_time``, reading the whole window for each).

    Returns
    -------
    Select
        ``SELECT contacts.id AS contact_id …``, unordered, for either database.
    """
    test = condition_test(condition, now=now, tier_ranks=tier_ranks, setwise=setwise, people=people)
    query = select(Contact.id.label("contact_id")).where(live(), test)
    return query if people is None else query.where(people.have(Contact.id))


def count_query(select_ids: Select[Any]) -> Select[int]:
    """How many ids a :func:`members_query` finds."""
    return select(func.count()).select_from(select_ids.subquery())


__all__ = ["People", "condition_test", "count_query", "live", "members_query"]
