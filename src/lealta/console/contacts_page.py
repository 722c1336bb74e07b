"""The contact list's view model: filters from the query string (checked, each bad value named),
one page of contacts (the same search as ``GET /v1/contacts``), the chips of the active
filters, how many match (exactly up to 10,000, "more than 10,000" beyond), the choices of each
filter, and the link to the next page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lealta.bootstrap import Services
from lealta.contacts import choices, profiles, search
from lealta.contacts.attributes import BUILT_IN
from lealta.contacts.schemas import Profile
from lealta.contacts.service import declared_types
from lealta.errors import InvalidInput

PAGE = 50
MAX_DAYS = 36_500
# Query-string names and how a chip names each, in the order chips show.
LABELS = {
    "q": "Search",
    "stage": "Stage",
    "segment": "RFM segment",
    "cluster": "Cluster",
    "tier": "Loyalty tier",
    "points_min": "Points at least",
    "points_max": "Points at most",
    "tag": "Tag",
    "list": "List",
    "score_min": "Score at least",
    "score_max": "Score at most",
    "seen_within": "Seen in the last (days)",
    "unseen_for": "Not seen for (days)",
    "attribute": "Attribute",
    "r": "R score",
    "f": "F score",
    "created_within": "New in the last (days)",
    "clv_min": "Predicted value at least",
    "p_alive_max": "P(alive) at most",
    "churn_band": "Churn risk",
}
FILTERS = (*LABELS, "value")


@dataclass
class ContactRow:
    id: str
    name: str
    email: str
    stage: str
    score: float
    segment: str
    last_seen: dt.datetime | None


@dataclass(frozen=True)
class Chip:
    """An active filter, with the list's address without it."""

    name: str
    label: str
    value: str
    remove_href: str


def _row(profile: Profile) -> ContactRow:
    attributes = profile.attributes
    name = " ".join(
        str(attributes[part]) for part in ("first_name", "last_name") if attributes.get(part)
    ) or str(attributes.get("name") or "")
    emails = profile.identifiers.get("email", [])
    return ContactRow(
        id=profile.id,
        name=name,
        email=emails[0] if emails else "",
        stage=profile.lifecycle_stage or "",
        score=profile.score,
        segment=profile.rfm.segment if profile.rfm else "",
        last_seen=profile.last_seen_at,
    )


def _score(text: str, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 9:
        raise InvalidInput(f"{name} must be a score from 1 to 9", field=name)
    return int(text)


def _days(query: dict[str, str], name: str) -> int | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise InvalidInput(
            f"{LABELS[name]}: {text!r} is not a number of days from 1 to {MAX_DAYS}", field=name
        )
    return int(text)


def _number(query: dict[str, str], name: str) -> float | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"{LABELS[name]}: {text!r} is not a number", field=name) from None
    if number != number or abs(number) == float("inf"):  # NaN and infinities
        raise InvalidInput(f"{LABELS[name]}: {text!r} is not a number", field=name)
    return number


def _points(query: dict[str, str]) -> tuple[int | None, int | None]:
    """The loyalty points balance range: whole numbers of points, 0 or more."""
    found: list[int | None] = []
    for name in ("points_min", "points_max"):
        text = query.get(name, "").strip()
        if text and not text.isdigit():
            raise InvalidInput(
                f"{LABELS[name]}: {text!r} is not a whole number of points", field=name
            )
        found.append(int(text) if text else None)
    low, high = found
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            f"Points at least ({low}) is above points at most ({high})", field="points_min"
        )
    return low, high


def _cluster(query: dict[str, str]) -> int | None:
    text = query.get("cluster", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"Cluster: {text!r} is not a cluster number", field="cluster")
    return int(text)


def _attribute(query: dict[str, str]) -> tuple[tuple[str, str], ...]:
    name, value = query.get("attribute", "").strip(), query.get("value", "")
    if not name:
        if value:
            raise InvalidInput("Attribute: choose which attribute to compare", field="attribute")
        return ()
    try:
        return (search.parse_attribute_filter(f"{name}:{value.strip()}"),)
    except InvalidInput as problem:
        raise InvalidInput(f"Attribute: {problem}", field="attribute") from None


def _scores(query: dict[str, str]) -> tuple[float | None, float | None]:
    low, high = _number(query, "score_min"), _number(query, "score_max")
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            f"Score at least ({low:g}) is above score at most ({high:g})", field="score_min"
        )
    return low, high


def wanted_from(query: dict[str, str], *, now: dt.datetime) -> search.ContactFilter:
    """The search a console query string asks for; ``InvalidInput`` names a bad field."""
    within = _days(query, "created_within")
    arrived_after = None
    if within:
        first = (now - dt.timedelta(days=within - 1)).date()
        arrived_after = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    score_min, score_max = _scores(query)
    points_min, points_max = _points(query)
    return search.ContactFilter(
        q=query.get("q", "").strip() or None,
        stage=query.get("stage") or None,
        segment=query.get("segment") or None,
        cluster=_cluster(query),
        tier=query.get("tier") or None,
        points_min=points_min,
        points_max=points_max,
        tag=query.get("tag") or None,
        list=query.get("list") or None,
        score_min=score_min,
        score_max=score_max,
        seen_after=search.days_before(now, _days(query, "seen_within")),
        unseen_since=search.days_before(now, _days(query, "unseen_for")),
        attributes=_attribute(query),
        r=_score(query.get("r", ""), "r"),
        f=_score(query.get("f", ""), "f"),
        arrived_after=arrived_after,
        clv_min=_number(query, "clv_min"),
        p_alive_max=_number(query, "p_alive_max"),
        churn_band=query.get("churn_band") or None,
    )


def chips(chosen: dict[str, str], cluster_names: dict[int, str]) -> list[Chip]:
    """One chip per active filter; removing the attribute removes its value too."""
    found = []
    for name, label in LABELS.items():
        if name not in chosen:
            continue
        value = chosen[name]
        if name == "attribute":
            value = f"{value} = {chosen.get('value', '')}"
        elif name == "cluster" and value.isdigit() and int(value) in cluster_names:
            value = cluster_names[int(value)]
        rest = {
            k: v
            for k, v in chosen.items()
            if k != name and not (name == "attribute" and k == "value")
        }
        found.append(
            Chip(name, label, value, f"/contacts?{urlencode(rest)}" if rest else "/contacts")
        )
    return found


def options(offered: choices.Choices, attributes: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each select's (value, text) pairs."""
    return {
        "stage": [(s, s) for s in offered.stages],
        "segment": [(s, s) for s in offered.segments],
        "cluster": [(str(n), f"{name} (#{n})") for n, name in offered.clusters],
        "tag": [(t, t) for t in offered.tags],
        "list": offered.lists,
        "attribute": [(a, a.replace("_", " ")) for a in attributes],
    }


def matching_text(total: int, more: bool) -> str:
    """``"1 contact"``, ``"2,345 contacts"``, ``"more than 10,000 contacts"``."""
    if more:
        return f"More than {total:,} contacts"
    return f"{total:,} contact" + ("" if total == 1 else "s")


def _tiers(session: Any) -> list[tuple[str, str]]:
    """The loyalty programme's tiers (none without a programme), highest first."""
    from lealta.loyalty.service import get

    stored = get(session)
    return [(t, t) for t in reversed(stored.program.tier_names())] if stored else []


def _has_points(session: Any) -> bool:
    """Whether the loyalty programme in force has points (its filters are offered then)."""
    from lealta.loyalty.service import get

    stored = get(session)
    return stored is not None and stored.program.points is not None


def contacts_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``contacts.html`` shows for this query string."""
    chosen = {name: query[name].strip() for name in FILTERS if query.get(name, "").strip()}
    now = services.clock.now()
    region = services.settings.default_phone_region
    context: dict[str, Any] = {
        "filters": chosen,
        "labels": LABELS,
        "rows": [],
        "next_href": "",
        "problem": "",
        "problem_field": "",
        "paged": bool(query.get("cursor")),
        "matching": "",
    }
    with services.uow.transaction() as session:
        offered = choices.choices(session)
        attributes = sorted({*BUILT_IN, *declared_types(session)})
        context.update(choices=offered, options=options(offered, attributes))
        context["options"]["tier"] = _tiers(session)
        context["options"]["points"] = _has_points(session) or any(
            name in chosen for name in ("points_min", "points_max")
        )
        context["chips"] = chips(chosen, dict(offered.clusters))
        try:
            wanted = wanted_from(chosen, now=now)
            found, following = search.search(
                session, wanted, limit=PAGE, cursor=query.get("cursor") or None, region=region
            )
            total, more = search.count(session, wanted, region=region)
        except InvalidInput as problem:
            context.update(problem=str(problem), problem_field=problem.field or "")
            return context
        rows = [_row(p) for p in profiles.profiles(session, found, now=now)]
    next_href = f"/contacts?{urlencode({**chosen, 'cursor': following})}" if following else ""
    context.update(rows=rows, next_href=next_href, matching=matching_text(total, more))
    return context
