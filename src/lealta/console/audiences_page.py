"""The Audiences pages' view models: the list (stored sizes only: a page at a million
contacts never counts members), the builder (the rule tree as a form, each rule in words with
its problems, the YAML), its preview (the fast estimate, then the exact count and the funnel,
from :mod:`lealta.audiences.counting`), and an audience's page (size over time, a sample of
members, why a person is in or out, where it is used)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta.audiences import console_queries, counting, service, sizes
from lealta.audiences.definition import load_condition, time_bound
from lealta.audiences.explaining import explain
from lealta.audiences.tables import Audience, AudienceMember
from lealta.bootstrap import Services
from lealta.conditions.explain import describe
from lealta.console import audience_form as form_
from lealta.console.journey_edit_page import input_id
from lealta.console.timecharts import Point, Series, lines
from lealta.contacts.tables import Contact, ContactList
from lealta.errors import InvalidInput, LealtaError
from lealta.messages import service as messages
from lealta.report.drawing import PALETTE
from lealta.segmentation.members import Member, members_page

SPARK_DAYS = 30
CHART_DAYS = 90
SAMPLE = 20
MEMBERS_PAGE = 50
MAX_TEXT = 100_000


@dataclass(frozen=True)
class Problem:
    """Something to fix: the form field it concerns (empty: the whole definition)."""

    field: str
    message: str


# -- the list ----------------------------------------------------------------------------


def sparkline(points: list[tuple[dt.date, int]], *, title: str) -> str:
    """A small line of the daily sizes (empty with fewer than two days)."""
    if len(points) < 2:
        return ""
    width, height, pad = 120, 28, 3
    low = min(size for _, size in points)
    high = max(size for _, size in points)
    span = (high - low) or 1
    step = (width - 2 * pad) / (len(points) - 1)
    xy = " ".join(
        f"{pad + i * step:.1f},{height - pad - (size - low) / span * (height - 2 * pad):.1f}"
        for i, (_, size) in enumerate(points)
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<polyline points="{xy}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/></svg>'
    )


def list_context(services: Services) -> dict[str, Any]:
    """Every audience with its size after the latest refresh, its change over the last
    :data:`SPARK_DAYS` days (from the stored daily sizes), when it was refreshed and whether
    its windows make it change with time alone."""
    today = services.clock.now().date()
    with services.uow.transaction() as session:
        audiences = service.list_(session)
        history = console_queries.sizes_since(session, today - dt.timedelta(days=SPARK_DAYS))
        rows = []
        for audience in audiences:
            days = history.get(audience.id, [])
            first = days[0][1] if days and days[0][0] < today else None  # a change needs a past
            change = None if first is None or audience.size is None else audience.size - first
            rows.append(
                {
                    "id": audience.id,
                    "name": audience.name,
                    "description": audience.description,
                    "size": audience.size,
                    "change": change,
                    "since": days[0][0] if days else None,
                    "spark": sparkline(days, title=f"{audience.name}: size per day"),
                    "refreshed_at": audience.refreshed_at,
                    "time_bound": time_bound(audience.condition),
                    "list": audience.list_slug,
                }
            )
    return {"audiences": rows, "spark_days": SPARK_DAYS}


# -- the builder -------------------------------------------------------------------------


def new_draft() -> dict[str, Any]:
    """What the builder starts from: one rule, no name."""
    return {"name": "", "description": "", "list": "", "condition": dict(form_.NEW_RULE)}


def draft_of(session: Session, audience: Audience) -> dict[str, Any]:
    """An audience's current definition as the builder's draft."""
    stored = service.definition(session, audience)
    return {
        "name": stored.get("name", ""),
        "description": stored.get("description", ""),
        "list": stored.get("list") or "",
        "condition": stored.get("condition") or dict(form_.NEW_RULE),
    }


def read_draft(posted: dict[str, str]) -> dict[str, Any]:
    """The draft the builder posted: the hidden draft (what the form does not show) with the
    fields read over it, then an added or removed rule (``op``)."""
    try:
        base = json.loads(posted.get("draft") or "{}")
    except ValueError:
        base = {}
    if not isinstance(base, dict):
        base = {}
    condition = form_.read(posted, base.get("condition"))
    op = posted.get("op", "")
    if op.startswith("add|"):
        condition = form_.add_rule(condition, op.removeprefix("add|"))
    elif op.startswith("remove|"):
        condition = form_.remove_rule(condition, op.removeprefix("remove|"))
    return {
        "name": posted.get("name", base.get("name", "")).strip(),
        "description": posted.get("description", base.get("description", "")).strip(),
        "list": posted.get("list", base.get("list", "")).strip(),
        "condition": condition,
    }


def draft_from_yaml(text: str) -> dict[str, Any]:
    """The draft a YAML definition gives (``InvalidInput`` naming ``definition`` when the
    text is not a mapping with a condition)."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"the definition is too long ({len(text):,} characters)", field="yaml")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the YAML does not read: {exc}", field="yaml") from None
    if not isinstance(data, dict) or not isinstance(data.get("condition"), dict):
        raise InvalidInput("the YAML must be a mapping with a condition", field="yaml")
    return {
        "name": str(data.get("name") or ""),
        "description": str(data.get("description") or ""),
        "list": str(data.get("list") or ""),
        "condition": data["condition"],
    }


def document(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft as a definition to save (an empty list left out)."""
    found: dict[str, Any] = {"version": 1, "name": draft["name"]}
    if draft.get("description"):
        found["description"] = draft["description"]
    if draft.get("list"):
        found["list"] = draft["list"]
    found["condition"] = draft["condition"]
    return found


def check_rules(draft: dict[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    """Each rule of the draft in words (by its prefix), and the problems of the rules that
    do not hold together, each on its own field; then the tree as a whole."""
    words: dict[str, str] = {}
    problems: list[Problem] = []
    for prefix, node in _rules(draft["condition"], form_.ROOT):
        group = isinstance(node, dict) and node.get("kind") in ("all", "any", "not")
        try:
            words[prefix] = describe(load_condition(node))
        except InvalidInput as exc:
            if group:
                continue  # its rules say what is wrong, each on its own
            place = form_.field_of(exc.field or "condition")
            field = prefix + place.removeprefix(form_.ROOT) if place != form_.ROOT else prefix
            problems.append(
                Problem(field if field != prefix else prefix + "kind", _plain(str(exc)))
            )
    if not problems:
        try:
            load_condition(draft["condition"])
        except InvalidInput as exc:
            problems.append(Problem(form_.field_of(exc.field or "condition"), _plain(str(exc))))
    return words, problems


def _plain(message: str) -> str:
    """A problem without the place pydantic puts first (the rule is where it shows)."""
    message = message.removeprefix("invalid condition: ")
    head, sep, rest = message.partition(": ")
    return rest if sep and " " not in head and rest else message


def _rules(node: Any, prefix: str) -> list[tuple[str, Any]]:
    """Every rule of the tree with its prefix (groups too), the root first."""
    found = [(prefix, node)]
    if isinstance(node, dict) and node.get("kind") in ("all", "any"):
        for n, child in enumerate(node.get("conditions") or []):
            found += _rules(child, f"{prefix}{n}.")
    elif isinstance(node, dict) and node.get("kind") == "not":
        found += _rules(node.get("condition"), f"{prefix}x.")
    return found


def builder_context(
    services: Services,
    draft: dict[str, Any],
    *,
    audience: Audience | None,
    problems: list[Problem] | None = None,
    yaml_text: str | None = None,
) -> dict[str, Any]:
    """Everything the builder shows of a draft: the rules as fields with their words, the
    problems by field and by rule, the YAML, and the choices (audiences, lists)."""
    with services.uow.transaction() as session:
        others = [a.name for a in service.list_(session) if audience is None or a.id != audience.id]
        lists = list(session.scalars(select(ContactList.slug).order_by(ContactList.slug)))
        templates = [t.id for t in messages.list_(session, channel="email")]
    words, rule_problems = check_rules(draft)
    found = list(problems or []) + [p for p in rule_problems if p not in (problems or [])]
    by_field: dict[str, list[Problem]] = {}
    by_rule: dict[str, list[Problem]] = {}
    prefixes = sorted((p for p, _ in _rules(draft["condition"], form_.ROOT)), key=len)
    for problem in found:
        by_field.setdefault(problem.field, []).append(problem)
        if problem.field.startswith(form_.ROOT):
            rule = [p for p in prefixes if problem.field.startswith(p)][-1]
            by_rule.setdefault(rule, []).append(problem)
    where = {id(problem): rule for rule, found_here in by_rule.items() for problem in found_here}
    summary = [
        {
            "message": problem.message,
            "href": "#rule-" + input_id(where[id(problem)]) if id(problem) in where else "",
            "label": form_.rule_label(where[id(problem)])
            if id(problem) in where
            else problem.field,
        }
        for problem in found
    ]
    return {
        "summary": summary,
        "draft": draft,
        "draft_json": json.dumps(draft),
        "tree": form_.fields(draft["condition"], others, templates=templates),
        "words": words,
        "problems": found,
        "by_field": by_field,
        "by_rule": by_rule,
        "fields_wrong": set(by_field),
        "yaml_text": yaml_text
        if yaml_text is not None
        else yaml.safe_dump(document(draft), sort_keys=False, allow_unicode=True),
        "lists": lists,
        "valid": not rule_problems,
    }


# -- the preview -------------------------------------------------------------------------


def estimate_view(services: Services, condition: Any) -> dict[str, Any]:
    """The fast estimate (a slice of about :data:`counting.SAMPLE` contacts)."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        found = counting.estimate(session, load_condition(condition), now=now)
    return {"estimate": found}


def exact_view(services: Services, condition: Any) -> dict[str, Any]:
    """The exact count and the funnel: who is left after each condition of an ``all`` (its
    last step holds every condition: the exact count)."""
    now = services.clock.now()
    parsed = load_condition(condition)
    with services.uow.transaction() as session:
        steps = counting.funnel(session, parsed, now=now)
    total = steps[-1].left  # the last step is the whole condition: no second count
    start = steps[0].left if steps else 0
    most = max([s.left for s in steps] + [1])
    shown: list[dict[str, Any]] = []
    before: int | None = None
    for step in steps:
        lost: int | None = None if before is None else before - step.left
        shown.append(
            {
                "label": step.label,
                "left": step.left,
                "lost": lost,
                "share": step.left / most,
                "worst": False,
            }
        )
        before = step.left
    losses: list[int] = [s["lost"] for s in shown if s["lost"]]
    if losses:
        biggest = max(losses)
        for s in shown:
            s["worst"] = s["lost"] == biggest
    return {"exact": total, "funnel": shown if len(shown) > 1 else [], "first": start}


# -- an audience's page ------------------------------------------------------------------


def members_where(audience_id: int) -> Any:
    """Contacts in the audience (as of its latest refresh)."""
    return Contact.id.in_(
        select(AudienceMember.contact_id).where(AudienceMember.audience_id == audience_id)
    )


def audience_context(services: Services, audience_id: int, query: dict[str, str]) -> dict[str, Any]:
    """An audience's page beside its builder: size over time, a sample of members, the
    explanation for the contact asked (``who``: an id or e-mail), and where it is used."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        audience = service.get(session, audience_id)
        history = sizes.history(session, audience, today=now.date(), days=CHART_DAYS)
        sample = members_page(session, members_where(audience.id), limit=SAMPLE)
        used = console_queries.uses(session, audience.name)
        who = query.get("who", "").strip()
        explained, who_problem = _explanation(session, audience, who, now)
    chart = ""
    if history:
        points = [Point(day.day.isoformat(), day.size) for day in history]
        chart = lines([Series("Members", points)], title=f"{audience.name}: members per day")
    return {
        "history": history,
        "chart": chart,
        "sample": sample,
        "uses": used,
        "who": who,
        "explained": explained,
        "who_problem": who_problem,
        "time_bound": time_bound(audience.condition),
    }


def _explanation(
    session: Session, audience: Audience, who: str, now: dt.datetime
) -> tuple[Any, str]:
    if not who:
        return None, ""
    contact_id = console_queries.contact_by_id_or_email(session, who)
    if contact_id is None:
        return None, f"No contact has the id or e-mail {who!r}."
    try:
        return explain(session, audience.id, contact_id, now=now), ""
    except LealtaError as exc:
        return None, str(exc)


def members_context(services: Services, audience_id: int, after: str) -> dict[str, Any]:
    """A page of an audience's members (by contact id, after ``after``)."""
    with services.uow.transaction() as session:
        audience = service.get(session, audience_id)
        found: list[Member] = members_page(
            session, members_where(audience.id), after=after, limit=MEMBERS_PAGE + 1
        )
        name, size = audience.name, audience.size
    page = found[:MEMBERS_PAGE]
    following = page[-1].id if len(found) > MEMBERS_PAGE else ""
    return {
        "audience_id": audience_id,
        "name": name,
        "size": size,
        "members": page,
        "next_after": following,
        "paged": bool(after),
    }
