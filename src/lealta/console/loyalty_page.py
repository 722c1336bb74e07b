"""The Loyalty pages' view models: the programme in force with members per tier, revenue per
tier over a period, the tier migration matrix between two dates and benefit use
(``loyalty.html``); the people behind any of those figures (``loyalty_people.html``); and the
programme editor with its preview and versions (``loyalty_program.html``).

Figures come from :mod:`lealta.loyalty.reports`; every count links to the people behind it:
the contacts list filtered by tier for the members of a tier, the Loyalty pages' own list for
a cell of the matrix or those in no tier. The points liability comes from
:func:`lealta.loyalty.ledger.liability` when the programme has points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.console import loyalty_words as words
from lealta.console.loyalty_diff import changes, unified
from lealta.console.loyalty_yaml import to_yaml
from lealta.console.segments_page import (
    MatrixCell,
    day_label,
    parse_day,
    remembered_value,
    value_view,
)
from lealta.errors import InvalidInput
from lealta.loyalty import reports, service
from lealta.loyalty.program import LoyaltyProgram, load_program
from lealta.loyalty.tables import ContactTier, LoyaltyProgramVersion, TierChange
from lealta.orders.tables import Order
from lealta.segmentation.members import members_page
from lealta.segmentation.movements import Movements, check_dates

PEOPLE_PAGE = 50
REVENUE_DAYS = 365
MOVES_DAYS = 30
VERSIONS_SHOWN = 10
NO_TIER = "No tier"


def people_link(**query: str | None) -> str:
    """The people list of the Loyalty pages: ``tier`` (empty: in no tier), or a matrix cell
    (``from``, ``to``, ``was``, ``now``; None or empty: no tier)."""
    given = {name: value or "" for name, value in query.items()}
    return "/loyalty/people?" + urlencode(given)


def members_link(tier: str | None) -> str:
    """The people in ``tier`` now: the contacts list filtered by tier (``/contacts?tier=``,
    with its search, columns and export); those in no tier (which that filter cannot say) on
    the Loyalty pages' own list."""
    if tier:
        return "/contacts?" + urlencode({"tier": tier})
    return people_link(tier="")


def _tiers_view(program: LoyaltyProgram, members: dict[str, int]) -> list[dict[str, Any]]:
    """The tiers, highest first, with their rule, benefits and members."""
    total = sum(members.values()) or 1
    shown = []
    for rank, tier in reversed(list(enumerate(program.tiers, start=1))):
        count = members.get(tier.name, 0)
        shown.append(
            {
                "rank": rank,
                "name": tier.name,
                "description": tier.description,
                "rule": words.qualify(tier, program),
                "benefits": [
                    {"code": b.code, "words": words.benefit(b, program.currency)}
                    for b in program.benefits_of(tier.name)
                ],
                "members": count,
                "share": count / total,
                "href": members_link(tier.name),
            }
        )
    return shown


def _revenue_view(program: LoyaltyProgram, rows: list[reports.TierRevenue]) -> list[dict[str, Any]]:
    """Per tier (highest first, then no tier): customers who ordered, orders and revenue per
    currency, the programme's currency first."""
    order = [*reversed(program.tier_names()), None]
    known = {*order}
    order += sorted({r.tier for r in rows if r.tier not in known}, key=str)
    shown = []
    for tier in order:
        mine = [r for r in rows if r.tier == tier]
        if not mine and tier is None:
            continue
        amounts = sorted(
            ((r.currency, r.revenue) for r in mine),
            key=lambda pair: (pair[0] != program.currency, pair[0]),
        )
        orders = sum(r.orders for r in mine)
        main = next((amount for cur, amount in amounts if cur == program.currency), 0.0)
        shown.append(
            {
                "tier": tier or NO_TIER,
                "customers": sum(r.customers for r in mine),
                "orders": orders,
                "revenue": main,
                "other": [(cur, amount) for cur, amount in amounts if cur != program.currency],
                "average": main / orders if orders else None,
                "href": members_link(tier),
            }
        )
    return shown


def _matrix_view(found: Movements, program: LoyaltyProgram) -> dict[str, Any]:
    """Rows (tier on the first day, highest first, then no tier) by columns (tier on the
    second day), with totals; every count links to its people. Rows nobody is in are left
    out."""
    names = found.segments(list(reversed(program.tier_names())))
    order: list[str | None] = [*names, None]
    moved = [n for (a, b), n in found.cells.items() if a != b]
    busiest = max(moved, default=0) or 1
    start, end = found.start.isoformat(), found.end.isoformat()
    table = []
    for before in order:
        cells = []
        for after in order:
            count = found.count(before, after)
            stayed = before == after
            level = 0 if not count or stayed else max(1, round(count / busiest * 5))
            words_ = f"{before or NO_TIER} to {after or NO_TIER}: {count:,} people"
            href = people_link(**{"from": start, "to": end, "was": before, "now": after})
            cells.append(MatrixCell(count, href, level, stayed, words_))
        total = sum(c.count for c in cells)
        if total:
            table.append({"name": before or NO_TIER, "cells": cells, "total": total})
    return {
        "columns": [n or NO_TIER for n in order],
        "rows": table,
        "totals": [sum(found.count(a, b) for a in order) for b in order],
        "moved": found.moved(),
        "start_label": day_label(found.start),
        "end_label": day_label(found.end),
    }


def _vouchers_view(
    program: LoyaltyProgram, rows: list[reports.TierVouchers]
) -> list[dict[str, Any]]:
    by_tier = {r.tier: r for r in rows}
    order = [*reversed(program.tier_names()), None]
    order += sorted({r.tier for r in rows if r.tier not in set(order)}, key=str)
    return [
        {
            "tier": tier or NO_TIER,
            "vouchers": by_tier[tier].vouchers if tier in by_tier else 0,
            "customers": by_tier[tier].customers if tier in by_tier else 0,
            "href": members_link(tier),
        }
        for tier in order
        if tier is not None or tier in by_tier
    ]


def _dates(
    query: dict[str, str], names: tuple[str, str], defaults: tuple[dt.date, dt.date]
) -> tuple[dt.date, dt.date]:
    start = parse_day(query.get(names[0]), names[0], defaults[0])
    end = parse_day(query.get(names[1]), names[1], defaults[1])
    if start > end:
        raise InvalidInput(
            f"{names[0]} ({start.isoformat()}) must not be after {names[1]} ({end.isoformat()})",
            field=names[0],
        )
    return start, end


def tiers_stamp(session: Session) -> Hashable:
    """What changes whenever members per tier or the moves may: a tier change recorded (the
    history's latest id and size) or a tier row gone (an erasure, a merge)."""
    changes = session.execute(select(func.max(TierChange.id), func.count(TierChange.id))).one()
    held = session.scalar(select(func.count()).select_from(ContactTier))
    return (*changes, held)


def orders_stamp(session: Session) -> Hashable:
    """What changes whenever an order is stored or erased."""
    return tuple(session.execute(select(func.max(Order.id), func.count(Order.id))).one())


def loyalty_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``loyalty.html`` shows for this query string: the revenue and benefit-use
    period (``from``, ``to``: the last year by default) and the matrix's dates (``was_on``,
    ``now_on``: 30 days ago and today by default).

    Members, revenue and moves are remembered (``services.memo``) until a tier changes or an
    order arrives (:func:`tiers_stamp`, :func:`orders_stamp`): a page at a million customers
    then reads a few index lookups instead of every tier, order and tier change."""
    today = services.clock.now().date()
    problems: list[str] = []
    year = (today - dt.timedelta(days=REVENUE_DAYS - 1), today)
    month = (today - dt.timedelta(days=MOVES_DAYS), today)
    try:
        start, end = _dates(query, ("from", "to"), year)
    except InvalidInput as exc:
        problems.append(str(exc))
        start, end = year
    try:
        was_on, now_on = _dates(query, ("was_on", "now_on"), month)
    except InvalidInput as exc:
        problems.append(str(exc))
        was_on, now_on = month
    memo = services.memo
    with services.uow.transaction() as session:
        stored = service.get(session)
        if stored is None:
            return {"stored": None, "problem": "; ".join(problems)}
        program = stored.program
        tiers_now = tiers_stamp(session)
        members = memo.get(("loyalty members", tiers_now), lambda: reports.members(session))
        revenue = memo.get(
            ("loyalty revenue", tiers_now, orders_stamp(session), start, end),
            lambda: reports.revenue(session, start, end),
        )
        moves = memo.get(
            ("loyalty moves", tiers_now, was_on, now_on),
            lambda: reports.migrations(session, was_on, now_on),
        )
        vouchers = reports.vouchers_redeemed(session, start, end)
        ever = reports.vouchers_ever_redeemed(session)
        reviewed = reports.last_review(session)
        first = reports.first_change(session)
        owed = _liability(session, program, today)
        value = remembered_value(memo, session, "tier", tiers_now)
    tiers = _tiers_view(program, members)
    return {
        "stored": stored,
        "program": program,
        "problem": "; ".join(problems),
        "tiers": tiers,
        "value": value_view(value, "tier", [t["name"] for t in tiers]),
        "members_total": sum(members.values()),
        "eligibility": words.eligibility(program),
        "scores": words.scores(program),
        "keeping": words.status(program.status),
        "reviewed_at": reviewed,
        "first_change": first,
        "start": start,
        "end": end,
        "period_label": f"{day_label(start)} to {day_label(end)}",
        "revenue": _revenue_view(program, revenue),
        "currency": program.currency,
        "was_on": was_on,
        "now_on": now_on,
        "matrix": _matrix_view(moves, program),
        "moved": moves.moved(),
        "vouchers": _vouchers_view(program, vouchers),
        "vouchers_in_period": sum(v.vouchers for v in vouchers),
        "vouchers_ever": ever,
        "liability": owed,
    }


def _liability(session: Session, program: LoyaltyProgram, today: dt.date) -> dict[str, Any] | None:
    """Points outstanding and their value, what expires in 30 days and the points ever moved
    per kind; None when the programme has no points."""
    from lealta.loyalty.ledger import liability

    if program.points is None:
        return None
    found = liability(session, program, today=today)
    return {
        "points": found.points,
        "value": found.value,
        "currency": found.currency,
        "point_value": found.point_value,
        "holders": found.holders,
        "expiring": found.expiring_30_days,
        "moved": [
            ("Earned", found.earned),
            ("Redeemed", found.redeemed),
            ("Expired", found.expired),
            ("Taken back by returns", found.returned),
            ("Adjusted", found.adjusted),
            ("Not recovered from returns", found.not_recovered),
        ],
    }


def people_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """The people behind a figure, a page at a time after ``after``: those in ``tier`` now
    (empty: in no tier among people with orders), or in tier ``was`` on ``from`` and ``now``
    on ``to`` (a cell of the matrix).

    Raises
    ------
    InvalidInput
        A date that does not read, or ``from`` after ``to``.
    """
    after = query.get("after", "")
    today = services.clock.now().date()
    if "was" in query or "now" in query:
        start = parse_day(query.get("from"), "from", today)
        end = parse_day(query.get("to"), "to", today)
        check_dates(start, end)
        before, later = query.get("was") or None, query.get("now") or None
        where = reports.movers(start, end, before, later)
        was_words = f"in {before}" if before else "in no tier"
        now_words = f"in {later}" if later else "in no tier"
        if before == later:
            now_words = "still there"
        title = f"{before or NO_TIER} → {later or NO_TIER}"
        sentence = f"{was_words} on {day_label(start)} and {now_words} on {day_label(end)}"
        base = people_link(
            **{"from": start.isoformat(), "to": end.isoformat(), "was": before, "now": later}
        )
        back = (
            "/loyalty?"
            + urlencode({"was_on": start.isoformat(), "now_on": end.isoformat()})
            + "#moves"
        )
    else:
        tier = query.get("tier") or None
        where = reports.in_tier(tier)
        if tier is None:
            where = and_(where, _has_ordered())
        title = tier or "In no tier"
        sentence = f"in {tier} now" if tier else "with orders but in no tier now"
        base = people_link(tier=tier or "")
        back = "/loyalty#tiers"
    with services.uow.transaction() as session:
        found = members_page(session, where, after=after, limit=PEOPLE_PAGE + 1)
        tiers = _tiers_of(session, [m.id for m in found[:PEOPLE_PAGE]])
    page = found[:PEOPLE_PAGE]
    following = base + "&" + urlencode({"after": page[-1].id}) if len(found) > PEOPLE_PAGE else ""
    return {
        "title": title,
        "sentence": sentence,
        "members": page,
        "tiers_now": tiers,
        "back": back,
        "next_href": following,
        "paged": bool(after),
        "first_href": base,
    }


def _has_ordered() -> Any:
    from lealta.contacts.tables import Contact

    return Contact.id.in_(select(Order.contact_id))


def _tiers_of(session: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(ContactTier.contact_id, ContactTier.tier).where(ContactTier.contact_id.in_(ids))
    ).all()
    return {str(contact): str(tier) for contact, tier in rows}


# -- the editor -------------------------------------------------------------------------------


def versions_context(services: Services, *, shown: int = VERSIONS_SHOWN) -> dict[str, Any]:
    """The programme in force (``in_force``: its version, 0 for none; ``text``: its YAML) and
    its latest versions, each with what changed from the one
    before (sentences and the YAML diff)."""
    with services.uow.transaction() as session:
        rows = list(
            session.scalars(
                select(LoyaltyProgramVersion)
                .order_by(LoyaltyProgramVersion.version.desc())
                .limit(shown + 1)
            )
        )
        loaded = [(r.version, r.saved_at, load_program(r.body)) for r in rows]
    versions = []
    for index, (version, saved_at, program) in enumerate(loaded[:shown]):
        older = loaded[index + 1] if index + 1 < len(loaded) else None
        versions.append(
            {
                "version": version,
                "saved_at": saved_at,
                "name": program.name,
                "tiers": program.tier_names(),
                "changes": changes(older[2], program) if older else [],
                "diff": unified(older[2], program, f"version {older[0]}", f"version {version}")
                if older
                else "",
                "first": older is None,
            }
        )
    current = loaded[0] if loaded else None
    return {
        "in_force": current[0] if current else 0,
        "text": to_yaml(current[2]) if current else "",
        "versions": versions,
    }


def preview_view(found: Any, currency: str) -> dict[str, Any]:
    """A :class:`lealta.loyalty.preview.Preview` as the editor shows it."""
    return {
        "tiers": [
            {
                "tier": t.tier,
                "now": t.now,
                "preview": t.preview,
                "change": t.preview - t.now,
                "qualify": t.qualify,
            }
            for t in found.tiers
        ],
        "members_now": found.members_now,
        "members": found.members,
        "customers": found.customers,
        "no_tier": found.customers - found.members if found.customers >= found.members else 0,
        "upgraded": found.upgraded,
        "downgraded": found.downgraded,
        "as_of": day_label(found.as_of),
        "seconds": found.seconds,
        "currency": currency,
        "earning": [{"days": d, "customers": n} for d, n in found.earning.items()],
    }
