"""The "Try it" page's view model: a workflow simulated for one contact with planned events, and
a dry run over a segment, tag or list. Both only read (:mod:`lealta.automations.simulate`,
:mod:`lealta.automations.dryrun`); the page is a GET whose query holds everything, so a
simulation can be bookmarked, shared and reloaded.

Query: ``contact`` (e-mail or id), ``days``, and the planned events as repeated ``day``, ``kind``
and ``detail`` (the e-mail's template for opens and clicks, the amount for a purchase, e.g.
``60`` or ``60 USD``, the event's name for another event). ``remove`` drops the row with that
number. The dry run: ``audience`` (segment, tag or list), ``value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.automations import dryrun, service
from lealta.automations import simulate as sim
from lealta.automations import wording as words
from lealta.automations.definition import SendStep, WorkflowDefinition
from lealta.bootstrap import Services
from lealta.console.journeys_page import journey_url
from lealta.contacts.tables import Contact, ContactList, ContactTag, ListMembership
from lealta.errors import InvalidInput, LealtaError
from lealta.segmentation.tables import ContactRfm

EVENT_KINDS = {
    "clicked": "clicks an e-mail",
    "opened": "opens an e-mail",
    "bought": "buys",
    "event": "does another event",
}
AUDIENCES = {"segment": "RFM segment", "tag": "Tag", "list": "List"}
DRY_RUN_LIMIT = 500
DEFAULT_DAYS = 30


def rows_of(query: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """The planned-event rows of the form, blank rows and the removed one left out."""
    days, kinds = list(query.get("day", [])), list(query.get("kind", []))
    details = list(query.get("detail", []))
    removed = set(query.get("remove", []))
    rows = []
    for i, (day, kind) in enumerate(zip(days, kinds, strict=False)):
        detail = details[i] if i < len(details) else ""
        if str(i) in removed or not (day.strip() or detail.strip()):
            continue
        rows.append({"day": day.strip(), "kind": kind.strip(), "detail": detail.strip()})
    return rows


def planned_of(rows: Sequence[Mapping[str, str]]) -> list[sim.Planned]:
    """The rows as planned events (``detail`` read per kind); ``InvalidInput`` names the row."""
    data: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {"day": row["day"], "kind": row["kind"]}
        detail = row["detail"]
        if row["kind"] == "bought":
            amount, _, currency = detail.partition(" ")
            item.update(amount=amount, currency=currency)
        elif row["kind"] == "event":
            item["name"] = detail
        else:
            item["template"] = detail
        data.append(item)
    return sim.planned(data)


def _days(text: str | None) -> float:
    if not text:
        return DEFAULT_DAYS
    try:
        days = float(text)
    except ValueError:
        raise InvalidInput("days must be a number", field="days") from None
    if not 1 <= days <= sim.MAX_DAYS:
        raise InvalidInput(f"days must be 1 to {sim.MAX_DAYS}", field="days")
    return days


def query_string(contact: str, days: float, rows: Sequence[Mapping[str, str]]) -> str:
    """The page's query for this simulation (for links to its messages)."""
    pairs: list[tuple[str, str]] = [("contact", contact), ("days", f"{days:g}")]
    for row in rows:
        pairs += [("day", row["day"]), ("kind", row["kind"]), ("detail", row["detail"])]
    return urlencode(pairs)


def try_context(
    services: Services, workflow_id: str, query: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Everything the try page shows; ``problem`` and ``problem_field`` when input is wrong."""
    first = {k: (v[0] if v else "") for k, v in query.items()}
    rows = rows_of(query)
    contact_text = first.get("contact", "").strip()
    context: dict[str, Any] = {
        "rows": rows,
        "contact_text": contact_text,
        "kinds": EVENT_KINDS,
        "audiences": AUDIENCES,
        "audience": first.get("audience", ""),
        "audience_value": first.get("value", ""),
        "problem": "",
        "problem_field": "",
        "simulation": None,
        "dry": None,
        "days": DEFAULT_DAYS,
        "href": journey_url(workflow_id),
        "action": journey_url(workflow_id, "try"),
    }
    now = services.clock.now()
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        rules = service.definition(session, workflow_id)
        context.update(workflow=workflow, rules=rules, templates=_email_templates(rules))
        try:
            days = context["days"] = _days(first.get("days"))
            if contact_text and "dry" not in first:
                events = planned_of(rows)
                contact_id = sim.find_contact(session, contact_text)
                result = sim.simulate(
                    session, services.settings, rules, contact_id, events, now=now, days=days
                )
                context["simulation"] = _shown(result, workflow_id, contact_text, days, rows)
                context["contact_id"] = contact_id
            if "dry" in first:
                context["dry"] = _dry(session, rules, first, now)
        except LealtaError as problem:
            context["problem"] = str(problem)
            context["problem_field"] = getattr(problem, "field", None) or ""
    return context


def message_body(
    services: Services, workflow_id: str, query: Mapping[str, Sequence[str]], index: int
) -> dict[str, Any]:
    """The ``index``-th message of the simulation the query describes, rendered."""
    first = {k: (v[0] if v else "") for k, v in query.items()}
    now = services.clock.now()
    with services.uow.transaction() as session:
        rules = service.definition(session, workflow_id)
        contact_id = sim.find_contact(session, first.get("contact", ""))
        result = sim.simulate(
            session,
            services.settings,
            rules,
            contact_id,
            planned_of(rows_of(query)),
            now=now,
            days=_days(first.get("days")),
        )
    return sim.message_at(result, index)


def _email_templates(rules: WorkflowDefinition) -> list[str]:
    return sorted({s.template for s in rules.steps if isinstance(s, SendStep)})


def _shown(
    result: sim.Simulation,
    workflow_id: str,
    contact: str,
    days: float,
    rows: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """The simulation grouped by day, each message with the link to its rendered body."""
    base = journey_url(workflow_id, "try/message") + "?" + query_string(contact, days, rows)
    by_day: dict[int, list[dict[str, Any]]] = {}
    for entry in result.entries:
        item = {"at": entry.at, "kind": entry.kind, "text": entry.text, "step": entry.step_id}
        if entry.message is not None:
            item["message"] = {**entry.message, "href": f"{base}&n={entry.message['index']}"}
        by_day.setdefault(int(entry.day), []).append(item)
    messages = sum(1 for e in result.entries if e.message is not None)
    vouchers = sum(1 for e in result.entries if e.kind == "voucher")
    return {
        "days": [{"day": day, "entries": entries} for day, entries in sorted(by_day.items())],
        "ending": result.ending,
        "status": result.status,
        "messages": messages,
        "vouchers": vouchers,
        "warnings": result.warnings,
    }


def _dry(
    session: Session, rules: WorkflowDefinition, first: Mapping[str, str], now: Any
) -> dict[str, Any]:
    """The dry run over the chosen audience (its first :data:`DRY_RUN_LIMIT` people)."""
    kind, value = first.get("audience", ""), first.get("value", "").strip()
    if kind not in AUDIENCES:
        raise InvalidInput("choose a segment, tag or list", field="audience")
    if not value:
        raise InvalidInput(f"name the {AUDIENCES[kind].lower()}", field="value")
    ids, total = _audience(session, kind, value)
    result = dryrun.dry_run(session, rules, ids, now=now, days=DEFAULT_DAYS)
    steps = []
    for step in rules.steps:
        outcomes = result["steps"].get(step.id, {})
        branches = [
            {"label": words.branch(step, label), "count": outcomes.get(label, 0)}
            for label in rules.successors(step.id)
            if label != "next"
        ]
        steps.append(
            {
                "id": step.id,
                "words": words.step(step),
                "entered": outcomes.get("entered", 0),
                "branches": branches,
            }
        )
    return {"total": total, "tried": len(ids), "steps": steps, "days": DEFAULT_DAYS}


def _audience(session: Session, kind: str, value: str) -> tuple[list[str], int]:
    """The first people of the audience (by id) and how many it holds."""
    if kind == "list":
        members = (
            select(ListMembership.contact_id)
            .join(ContactList, ContactList.id == ListMembership.list_id)
            .where(ContactList.slug == value, ListMembership.status == "subscribed")
        )
        live = select(Contact.id).where(
            Contact.id.in_(members), Contact.erased_at.is_(None), Contact.merged_into.is_(None)
        )
        total = int(session.scalar(select(func.count()).select_from(live.subquery())) or 0)
        ids = list(session.scalars(live.order_by(Contact.id).limit(DRY_RUN_LIMIT)))
        return ids, total
    if kind == "segment":
        members = select(ContactRfm.contact_id).where(ContactRfm.segment == value)
    else:
        members = select(ContactTag.contact_id).where(ContactTag.tag == value)
    total = int(session.scalar(select(func.count()).select_from(members.subquery())) or 0)
    ids = dryrun.audience(
        session,
        segment=value if kind == "segment" else None,
        tag=value if kind == "tag" else None,
        limit=DRY_RUN_LIMIT,
    )
    return ids, total
