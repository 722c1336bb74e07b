"""The contact list's view model: filters from the query string, one page of contacts (the
same search as ``GET /v1/contacts``), and the link to the next page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lealta.bootstrap import Services
from lealta.contacts import profiles, search
from lealta.contacts.schemas import Profile
from lealta.errors import InvalidInput

PAGE = 50
FILTERS = ("q", "stage", "segment", "tag", "list", "r", "f", "created_within")


@dataclass
class ContactRow:
    id: str
    name: str
    email: str
    stage: str
    score: float
    segment: str
    last_seen: dt.datetime | None


def _row(profile: Profile) -> ContactRow:
    attributes = profile.attributes
    name = " ".join(
        str(attributes[part]) for part in ("first_name", "last_name") if attributes.get(part)
    )
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


def wanted_from(query: dict[str, str], *, now: dt.datetime) -> search.ContactFilter:
    """The search a console query string asks for."""
    within = query.get("created_within", "")
    if within and not within.isdigit():
        raise InvalidInput("created_within must be a number of days", field="created_within")
    arrived_after = None
    if within:
        first = (now - dt.timedelta(days=int(within) - 1)).date()
        arrived_after = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    return search.ContactFilter(
        q=query.get("q") or None,
        stage=query.get("stage") or None,
        segment=query.get("segment") or None,
        tag=query.get("tag") or None,
        list=query.get("list") or None,
        r=_score(query.get("r", ""), "r"),
        f=_score(query.get("f", ""), "f"),
        arrived_after=arrived_after,
    )


def contacts_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``contacts.html`` shows for this query string."""
    chosen = {name: query[name] for name in FILTERS if query.get(name)}
    now = services.clock.now()
    try:
        wanted = wanted_from(chosen, now=now)
    except InvalidInput as problem:
        return {"filters": chosen, "rows": [], "next_href": "", "problem": str(problem)}
    with services.uow.transaction() as session:
        found, following = search.search(
            session,
            wanted,
            limit=PAGE,
            cursor=query.get("cursor") or None,
            region=services.settings.default_phone_region,
        )
        rows = [_row(p) for p in profiles.profiles(session, found, now=now)]
    next_href = f"/contacts?{urlencode({**chosen, 'cursor': following})}" if following else ""
    return {"filters": chosen, "rows": rows, "next_href": next_href, "problem": ""}
