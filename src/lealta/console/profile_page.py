"""The contact page's view model: the profile (identity, attributes, stage, score, RFM), the
summary of the timeline (orders, consent, tags, lists, workflow runs, held messages) and one
page of the timeline, filtered by kind; the same services as ``GET /v1/contacts/{id}`` and
``GET /v1/contacts/{id}/timeline``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from lealta.bootstrap import Services
from lealta.contacts import profiles, service, timeline
from lealta.errors import LealtaError

KINDS = ("event", "order", "stage", "score", "consent")
PAGE = 50


def display_name(attributes: dict[str, Any], emails: list[str], contact_id: str) -> str:
    """First and last name, else the first e-mail, else the id."""
    name = " ".join(
        str(attributes[part]) for part in ("first_name", "last_name") if attributes.get(part)
    )
    return name or (emails[0] if emails else contact_id)


def profile_context(services: Services, contact_id: str, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``contact.html`` shows; ``problem`` says why when the contact cannot be shown."""
    kind = query.get("kind", "")
    if kind not in ("", *KINDS):
        kind = ""
    now = services.clock.now()
    try:
        with services.uow.transaction() as session:
            contact, merged_from = service.get(session, contact_id)
            profile = profiles.profile(session, contact, now=now, merged_from=merged_from)
            page = timeline.timeline(
                session, contact, now=now, limit=PAGE, before=query.get("before") or None
            )
    except LealtaError as problem:
        return {"problem": str(problem), "contact_id": contact_id}
    entries = [e for e in page.entries if not kind or e.kind == kind]
    older = ""
    if page.next_before:
        older = f"/contacts/{profile.id}?" + urlencode(
            {**({"kind": kind} if kind else {}), "before": page.next_before}
        )
    emails = profile.identifiers.get("email", [])
    return {
        "problem": "",
        "p": profile,
        "s": page.profile,
        "name": display_name(profile.attributes, emails, profile.id),
        "entries": entries,
        "kind": kind,
        "kinds": KINDS,
        "older_href": older,
        "erase_unconfirmed": query.get("erase") == "unconfirmed",
    }
