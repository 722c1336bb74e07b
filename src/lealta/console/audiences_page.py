"""The Audiences pages' view models: the list (stored sizes only: a page at a million
contacts never counts members), the builder (the rule tree as a form, each rule in words with
its problems, the YAML), its preview (the fast estimate, then the exact count and the funnel,
from :mod:`lealta.audiences.counting`), and an audience's page (size over time, a sample of
members, why a person is in or out, where it is used)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass
from html import escape
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lealta import problem_words as say
from lealta.audiences import console_queries, counting, service, sizes
from lealta.audiences.definition import load_condition, time_bound
from lealta.audiences.explaining import explain
from lealta.audiences.tables import Audience, AudienceMember
from lealta.bootstrap import Services
from lealta.conditions.explain import describe, funnel_queries
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


def touched_of(posted: dict[str, str], draft: dict[str, Any]) -> set[str]:
    """The fields the marketer has left (the builder's ``touched``), without those of a rule
    whose kind just changed: its fields are new to them."""
    try:
        base = json.loads(posted.get("draft") or "{}")
    except ValueError:
        base = {}
    before = {
        prefix: node.get("kind") if isinstance(node, dict) else None
        for prefix, node in _rules(base.get("condition") if isinstance(base, dict) else None,
                                   form_.ROOT)
    }  # fmt: skip
    changed = [
        prefix
        for prefix, node in _rules(draft["condition"], form_.ROOT)
        if before.get(prefix) != (node.get("kind") if isinstance(node, dict) else None)
    ]
    names = set(posted.get("touched", "").split())
    return {name for name in names if not any(name.startswith(p) for p in changed)}


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
    do not hold together, each on its own field in the builder's words; then the tree as a
    whole."""
    words: dict[str, str] = {}
    problems: list[Problem] = []
    for prefix, node in _rules(draft["condition"], form_.ROOT):
        group = isinstance(node, dict) and node.get("kind") in ("all", "any", "not")
        try:
            words[prefix] = describe(load_condition(node))
        except InvalidInput as exc:
            if group:
                continue  # its rules say what is wrong, each on its own
            problems += [p for p in _rule_problems(prefix, node, exc) if p not in problems]
    if not problems:
        try:
            load_condition(draft["condition"])
        except InvalidInput as exc:
            problems.append(_tree_problem(exc))
    return words, problems


def _rule_problems(prefix: str, node: Any, exc: InvalidInput) -> list[Problem]:
    """A rule's problems, each on the field it concerns (else on the rule's kind)."""
    kind = str(node.get("kind")) if isinstance(node, dict) else ""
    shown = {f["name"]: f for f in form_.fields(node, [], prefix)["fields"] if f.get("name")}
    labels = {name.removeprefix(prefix): form_.short(f["label"]) for name, f in shown.items()}
    if not exc.details:
        field = prefix + form_.field_of(exc.field or "condition").removeprefix(form_.ROOT)
        field = field if field in shown else prefix + "kind"
        return [Problem(field, say.capital(say.plain(_plain(str(exc)))))]
    found: list[Problem] = []
    for detail in exc.details:
        loc = [str(step) for step in detail.get("loc", ())]
        loc = loc[1:] if loc[:1] == [kind] else loc  # pydantic's union tag
        field = prefix + form_.field_of(".".join(["condition", *loc])).removeprefix(form_.ROOT)
        spec = shown.get(field)
        if spec is None:
            field, spec = prefix + "kind", {"label": ".".join(loc) or kind, "kind": "text"}
        name = field.removeprefix(prefix)
        what = form_.noun(kind, name, spec["label"])
        message = say.sentence(detail, what, choose=spec["kind"] == "select", names=labels)
        if Problem(field, message) not in found:
            found.append(Problem(field, message))
    return found


def _tree_problem(exc: InvalidInput) -> Problem:
    """What is wrong with the rules together (a group left without rules)."""
    field = form_.field_of(exc.field or "condition")
    detail = exc.details[0] if exc.details else None
    if detail is None:
        return Problem(field, say.capital(say.plain(_plain(str(exc)))))
    if detail.get("type") == "too_short" and field.endswith("conditions"):
        return Problem(field, "Add a rule to this group, or remove the group")
    return Problem(field, say.sentence(detail, say.quoted(field)))


SAVE_NOUNS = {"name": "the name", "list": "the list", "description": "the description"}


def save_problem(exc: LealtaError) -> Problem:
    """Why saving was refused, on the field it concerns, in the builder's words."""
    field = getattr(exc, "field", None) or ""
    shown = form_.field_of(field) if field.startswith("condition") else field
    if isinstance(exc, InvalidInput):
        return Problem(shown, say.problem(exc, SAVE_NOUNS.get(shown) or say.quoted(shown)))
    return Problem(shown, say.capital(str(exc)))


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
    touched: Collection[str] | None = None,
) -> dict[str, Any]:
    """Everything the builder shows of a draft: the rules as fields with their words, the
    problems by field and by rule, the YAML, and the choices (audiences, lists).

    A rule's problem shows once the marketer has left its field (``touched``: the names of
    the fields left so far; None: every field, as after pressing Save), not as soon as an
    empty rule appears; the fields whose problem waits are ``pending``."""
    with services.uow.transaction() as session:
        others = [a.name for a in service.list_(session) if audience is None or a.id != audience.id]
        lists = list(session.scalars(select(ContactList.slug).order_by(ContactList.slug)))
        templates = [t.id for t in messages.list_(session, channel="email")]
    words, rule_problems = check_rules(draft)
    tree = form_.fields(draft["condition"], others, templates=templates)
    rule_fields = _rule_fields(tree)
    shown_fields = {name for names in rule_fields.values() for name in names[1:]}
    every = list(problems or []) + [p for p in rule_problems if p not in (problems or [])]
    found = [p for p in every if touched is None or _shows(p, touched, rule_fields)]
    pending = set().union(*[_reveals(p, rule_fields) for p in every if p not in found])
    by_field: dict[str, list[Problem]] = {}
    by_rule: dict[str, list[Problem]] = {}
    prefixes = sorted(rule_fields, key=len)
    for problem in found:
        by_field.setdefault(problem.field, []).append(problem)
        if problem.field.startswith(form_.ROOT) and problem.field not in shown_fields:
            rule = [p for p in prefixes if problem.field.startswith(p)][-1]
            by_rule.setdefault(rule, []).append(problem)
    return {
        "summary": [_summary_line(p, prefixes, shown_fields) for p in found],
        "draft": draft,
        "draft_json": json.dumps(draft),
        "tree": tree,
        "words": words,
        "problems": found,
        "by_field": by_field,
        "by_rule": by_rule,
        "fields_wrong": set(by_field),
        "pending": pending,
        "touched": " ".join(sorted(shown_fields if touched is None else touched)),
        "yaml_text": yaml_text
        if yaml_text is not None
        else yaml.safe_dump(document(draft), sort_keys=False, allow_unicode=True),
        "lists": lists,
        "valid": not rule_problems,
    }


def _rule_fields(view: dict[str, Any]) -> dict[str, list[str]]:
    """The names of each rule's fields (its kind first), by the rule's prefix."""
    found = {view["prefix"]: [view["prefix"] + "kind"] + [
        str(f["name"]) for f in view["fields"] if f.get("name")
    ]}  # fmt: skip
    for child in view["children"]:
        found.update(_rule_fields(child))
    return found


def _shows(problem: Problem, touched: Collection[str], rules: dict[str, list[str]]) -> bool:
    """Whether a problem shows yet: a field's once the field was left; a rule's own (on its
    kind) once any of its other fields was; any other (a group left empty) at once."""
    rule = rules.get(problem.field.removesuffix("kind"))
    if rule is not None and problem.field.endswith("kind"):
        return any(name in touched for name in rule[1:])
    in_a_rule = any(problem.field in names for names in rules.values())
    return not in_a_rule or problem.field in touched


def _reveals(problem: Problem, rules: dict[str, list[str]]) -> set[str]:
    """The fields whose leaving shows a waiting problem."""
    rule = rules.get(problem.field.removesuffix("kind"))
    if rule is not None and problem.field.endswith("kind"):
        return set(rule[1:])
    return {problem.field}


def _summary_line(problem: Problem, prefixes: list[str], fields: set[str]) -> dict[str, str]:
    """A problem in the list above the builder: the rule it is in, linked to its field."""
    if not problem.field.startswith(form_.ROOT):
        return {"message": problem.message, "href": "", "label": problem.field}
    rule = [p for p in prefixes if problem.field.startswith(p)][-1]
    target = input_id(problem.field) if problem.field in fields else "rule-" + input_id(rule)
    return {"message": problem.message, "href": "#" + target, "label": form_.rule_label(rule)}


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


def draft_people(
    services: Services, draft: dict[str, Any], *, step: str = "", after: str = ""
) -> dict[str, Any]:
    """A page of the people an unsaved draft's rules select, behind its exact count or one
    of its funnel's lines (``step``: who is left after that many rules; the last by
    default), by contact id after ``after``."""
    now = services.clock.now()
    steps = funnel_queries(load_condition(draft["condition"]), now=now)
    index = len(steps) - 1
    if step.isdigit() and int(step) < len(steps):
        index = int(step)
    with services.uow.transaction() as session:
        found: list[Member] = members_page(
            session,
            Contact.id.in_(steps[index].query),
            after=after,
            limit=MEMBERS_PAGE + 1,
        )
    page = found[:MEMBERS_PAGE]
    return {
        "draft_json": json.dumps(draft),
        "name": draft.get("name") or "",
        "step": str(index),
        "last": index == len(steps) - 1,
        "rules": [s.label for s in steps[: index + 1]],
        "members": page,
        "after": after,
        "next_after": page[-1].id if len(found) > MEMBERS_PAGE else "",
    }


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
