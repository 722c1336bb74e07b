"""The contact page's view model: the profile (identity, attributes, stage, score, RFM), the
score and stage histories as small charts, the loyalty card, consent, tags and lists, orders,
messages with their opens and clicks, workflow runs, vouchers and one page of the timeline,
filtered by kind in the query. The same services as ``GET /v1/contacts/{id}``,
``…/timeline``, ``…/consent``, ``GET /v1/outbox``, ``GET /v1/vouchers``, ``…/loyalty``;
everything is read in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.console import profile_words as words
from lealta.console.loyalty_card import loyalty_card
from lealta.console.sparklines import Point, Step, long_date, score_line, short_date, stage_path
from lealta.contacts import history, profiles, service, timeline
from lealta.contacts.schemas import Profile, Timeline
from lealta.contacts.tables import CHANNELS
from lealta.contacts.timeline_kinds import FILTERS
from lealta.errors import InvalidInput, LealtaError
from lealta.vouchers import service as vouchers
from lealta.vouchers.codes import format_code

PAGE = 50
ORDERS = 10
MESSAGES = 10
VOUCHERS_SHOWN = 5
# The timeline's filter links, the most asked-for first.
KIND_LABELS = {
    "": "Everything",
    "message": "Messages",
    "order": "Orders",
    "stage": "Stage",
    "score": "Score",
    "segment": "Segments",
    "consent": "Consent",
    "tag": "Tags",
    "list": "Lists",
    "voucher": "Vouchers",
    "event": "All events",
}
assert set(KIND_LABELS) == {"", *FILTERS}


def display_name(attributes: dict[str, Any], emails: list[str], contact_id: str) -> str:
    """First and last name, else the first e-mail, else the id."""
    name = " ".join(
        str(attributes[part]) for part in ("first_name", "last_name") if attributes.get(part)
    )
    return name or (emails[0] if emails else contact_id)


def profile_context(
    services: Services, contact_id: str, query: dict[str, str], **edit: Any
) -> dict[str, Any]:
    """Everything ``contact.html`` shows; ``problem`` (with ``status``) says why when the
    contact cannot be shown. ``edit`` carries a refused change back to its form
    (``edit_section``, ``edit_problem`` and what was typed)."""
    kind = query.get("kind", "")
    kind = kind if kind in FILTERS else ""
    now = services.clock.now()
    try:
        with services.uow.transaction() as session:
            context = _read(session, contact_id, query, kind, now)
    except InvalidInput as problem:
        return {"problem": str(problem), "status": 400, "contact_id": contact_id}
    except LealtaError as problem:
        return {"problem": str(problem), "status": 404, "contact_id": contact_id}
    return {**context, **edit, "problem": "", "status": 400 if edit else 200}


def _read(
    session: Session, contact_id: str, query: dict[str, str], kind: str, now: dt.datetime
) -> dict[str, Any]:
    contact, merged_from = service.get(session, contact_id)
    profile = profiles.profile(session, contact, now=now, merged_from=merged_from)
    page = timeline.timeline(
        session, contact, now=now, limit=PAGE, before=query.get("before") or None, kind=kind or None
    )
    ids = service.person_ids(session, contact.id)
    orders = history.orders(session, ids, limit=ORDERS, before=query.get("orders_before") or None)
    messages = history.messages(
        session, ids, limit=MESSAGES, before=query.get("messages_before") or None
    )
    emails = profile.identifiers.get("email", [])
    return {
        "p": profile,
        "s": page.profile,
        "name": display_name(profile.attributes, emails, profile.id),
        "charts": _charts(session, ids, now, profile.score),
        "rfm": _rfm(session, ids, profile, page, now),
        "consent": _consent(profile),
        "lists": _lists(session, profile),
        "audiences": _audiences(session, profile.id),
        "attributes": _attributes(session, profile),
        "orders": orders,
        "orders_older": _href(profile.id, orders_before=orders.next, anchor="orders"),
        "orders_paged": bool(query.get("orders_before")),
        "messages": [_message(m, now) for m in messages.rows],
        "messages_older": _href(profile.id, messages_before=messages.next, anchor="messages"),
        "messages_paged": bool(query.get("messages_before")),
        "vouchers": _vouchers(session, profile.id, now),
        "loyalty": loyalty_card(session, profile.id, ids, now),
        "vouchers_shown": VOUCHERS_SHOWN,
        "entries": [_entry(e, now) for e in page.entries],
        "kind": kind,
        "kinds": KIND_LABELS,
        "older_href": _href(profile.id, kind=kind, before=page.next_before, anchor="timeline")
        if page.next_before
        else "",
        "timeline_paged": bool(query.get("before")),
        "erase_unconfirmed": query.get("erase") == "unconfirmed",
        "short": lambda moment: short_date(moment, now),
    }


def _href(contact_id: str, *, anchor: str, **params: str | None) -> str:
    """A link to the contact's page with ``params`` (empty ones left out); empty when a paging
    parameter is None (no more pages)."""
    if any(value is None for name, value in params.items() if name != "kind"):
        return ""
    given = {name: value for name, value in params.items() if value}
    query = f"?{urlencode(given)}" if given else ""
    return f"/contacts/{quote(contact_id, safe='')}{query}#{anchor}"


def _charts(session: Session, ids: list[str], now: dt.datetime, current: float) -> dict[str, Any]:
    scores = history.score_history(session, ids)
    stages = history.stage_history(session, ids)
    points = [
        Point(s.at, s.score, f"{'+' if s.points >= 0 else ''}{s.points:g} by {s.rule}")
        for s in scores
    ]
    steps = [Step(s.at, s.to_stage, f"rule {s.rule}") for s in stages]
    return {
        "score": Markup(score_line(points, now=now, title="Lead score over time", current=current)),
        "score_changes": len(points),
        "stages": Markup(stage_path(steps, now=now, title="Lifecycle stages reached")),
        "stage_list": [(s.to_stage, short_date(s.at, now), long_date(s.at)) for s in stages],
    }


def _rfm(
    session: Session, ids: list[str], profile: Profile, page: Timeline, now: dt.datetime
) -> dict[str, Any] | None:
    moves = [
        {
            "text": words.move_text(move),
            "date": short_date(move.at, now),
            "segment": move.to_segment or "",
        }
        for move in history.segment_moves(session, ids)
    ]
    if profile.rfm is None:
        return {"moves": moves, "sentence": ""} if moves else None
    return {
        "moves": moves,
        "sentence": words.rfm_sentence(profile.rfm, page.profile.revenue),
        "as_of": short_date(profile.rfm.as_of, now),
    }


def _consent(profile: Profile) -> list[dict[str, Any]]:
    rows = []
    for channel in CHANNELS:
        found = profile.consent.get(channel)
        rows.append(
            {
                "channel": channel,
                "label": words.CHANNELS.get(channel, channel),
                "status": found.status if found else "",
                "source": found.source if found else "",
                "at": found.recorded_at if found else None,
                "by": str((found.proof or {}).get("by") or "") if found else "",
            }
        )
    return rows


def _lists(session: Session, profile: Profile) -> dict[str, Any]:
    status = {m.slug: m.status for m in profile.lists}
    choices = [
        {"slug": slug, "name": name, "double_opt_in": double}
        for slug, name, double in history.list_choices(session)
        if status.get(slug) != "subscribed"
    ]
    return {"memberships": profile.lists, "choices": choices}


def _audiences(session: Session, contact_id: str) -> list[dict[str, Any]]:
    """The saved audiences the person is in, with their ids (the links) and since when."""
    from lealta.audiences.console_queries import audiences_of

    found = audiences_of(session, contact_id)
    return [{"id": i, "name": name, "since": since} for i, name, since in found]


def _attributes(session: Session, profile: Profile) -> dict[str, Any]:
    types = {a.name: a.type for a in service.list_attributes(session)}
    rows = [
        {"name": name, "value": value, "type": types.get(name, "")}
        for name, value in sorted(profile.attributes.items())
    ]
    return {"rows": rows, "types": types}


def _message(message: history.SentMessage, now: dt.datetime) -> dict[str, Any]:
    return {
        "m": message,
        "channel": words.CHANNELS.get(message.channel, message.channel),
        "status": words.message_status(message, now),
        "reactions": words.reaction_words(message, now),
    }


def _vouchers(session: Session, contact_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    found = []
    for v in vouchers.list_for_contact(session, contact_id):
        status, state = words.voucher_state(v.expires_at, v.redeemed_at, v.redeemed_order, now)
        found.append(
            {
                "code": format_code(v.code),
                "value": words.voucher_value(v.kind, v.value, v.currency),
                "status": status,
                "state": state,
                "issued": short_date(v.issued_at, now),
                "source": v.source,
            }
        )
    return found


def _entry(entry: Any, now: dt.datetime) -> dict[str, Any]:
    note, by = words.entry_note(entry)
    return {
        "at": entry.at,
        "when": short_date(entry.at, now),
        "badge": words.family(entry),
        "title": entry.title,
        "note": note,
        "by": by,
    }
