"""The Journeys pages' view models: the workflows and the library, one workflow drawn with its
live counts and versions, the people waiting at a step with its messages' figures.

Every figure is counted set-wise (grouped per workflow, step or status in one query each, never
per person); lists of people are pages cut with a keyset cursor.

Counting reads a workflow's whole step log and its messages, which takes seconds at a million
runs. So the figures come from a :class:`lealta.overview.summary.Summaries` per process and
store: counted on the spot while that takes under ``FRESHNESS.live_below`` seconds (every small
shop, and the tests), else served from a summary recounted in the background every
``refresh_every`` seconds and never older than ``max_age`` (one minute). The counts are the same
queries either way; only their age differs. The page's lists of people and the workflow's
definition and versions are always read live.

Definitions, per step (runs of every version of the workflow):

* ``entered``: entries into the step (the step log's ``entered`` lines);
* ``waiting``: runs waiting at the step now;
* ``left``: runs that ended at the step (done, exited or at the goal);
* ``passed``: ``entered - waiting - left``: entries that went on.

The goal's ``converted`` counts runs whose log says they reached it; ``revenue`` sums the orders
those contacts placed from the run's entry until the goal was reached, per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from lealta.automations import catalog, service
from lealta.automations import wording as words
from lealta.automations.definition import SendStep, WorkflowDefinition
from lealta.automations.stats import workflow_stats
from lealta.automations.tables import GOAL, Run, RunStep, WorkflowVersion
from lealta.bootstrap import Services
from lealta.channels.tables import MessageInteraction, OutboxMessage
from lealta.console import flow_diagram, versions_diff
from lealta.contacts.profiles import identifiers_by_kind
from lealta.contacts.tables import Contact
from lealta.errors import InvalidInput, NotFound
from lealta.orders.tables import Order
from lealta.overview.summary import Freshness, PerStore, Summaries
from lealta.storage.paging import decode_cursor, encode_cursor
from lealta.users.tables import AuditEntry

PEOPLE_PAGE = 50
LIVE = ("active", "waiting")
ENDED = ("done", "exited", "goal")
STATUS_WORDS = {"draft": "Draft", "active": "Active", "paused": "Paused"}
# Pages must answer in under half a second: figures taking a quarter of that come from a summary,
# if they counted at least LARGE runs (or reactions): a small shop's figures are always live,
# however busy the machine.
FRESHNESS = Freshness(live_below=0.25)
LARGE = 20_000


# -- the figures, live while quick, else from a summary at most a minute old ------------------


def figures(services: Services) -> Summaries[tuple[str, ...], Any]:
    """The process's summaries of the Journeys figures for this store (made when first read,
    dropped with ``services``)."""
    return _kept.of(services)


def _large(found: Any) -> bool:
    """Whether counted figures are many: runs of the workflows, else reactions."""
    if "counts" in found:  # the list
        runs = sum(n for statuses in found["counts"].values() for n in statuses.values())
    elif "stats" in found:
        runs = found["stats"]["entered"]
    else:
        runs = sum(found.values())
    return bool(runs >= LARGE)


def _count(services: Services, what: tuple[str, ...]) -> Any:
    with services.uow.transaction() as session:
        if what == ("list",):
            return {
                "counts": _status_counts(session),
                "converted": _converted(session, None),
                "revenue": _revenue(session, None),
            }
        kind, workflow_id, *rest = what
        if kind == "workflow":
            return {
                "stats": workflow_stats(session, workflow_id),
                "ended": _ended(session, workflow_id),
                "converted": _converted(session, workflow_id).get(workflow_id, 0),
                "revenue": _revenue(session, workflow_id).get(workflow_id, {}),
            }
        if kind == "reactions":
            return _reactions(session, workflow_id, rest[0])
    raise ValueError(f"no such figures: {what}")


_kept = PerStore(_count, lambda: FRESHNESS, name="journeys", large=_large)


def journey_url(workflow_id: str, tail: str = "") -> str:
    """``/journeys/<id>`` (+ ``/tail``), the id quoted."""
    return f"/journeys/{quote(workflow_id, safe='')}" + (f"/{tail}" if tail else "")


def step_url(workflow_id: str, step_id: str) -> str:
    """The page of one step: its people and messages."""
    return journey_url(workflow_id, f"steps/{quote(step_id, safe='')}")


def people_url(workflow_id: str, **query: str) -> str:
    """The people of a workflow (``status``: live, waiting, goal …)."""
    return journey_url(workflow_id, "people") + (f"?{urlencode(query)}" if query else "")


# -- the list and the library -----------------------------------------------------------------


def list_context(services: Services) -> dict[str, Any]:
    """The stored workflows with their figures, and the shipped library."""
    found = figures(services).read(("list",))
    counts, converted, revenue = found["counts"], found["converted"], found["revenue"]
    with services.uow.transaction() as session:
        stored = service.list_workflows(session)
    rows = []
    for workflow in stored:
        by_status = counts.get(workflow.id, {})
        entered = sum(by_status.values())
        goal = converted.get(workflow.id, 0)
        rows.append(
            {
                "id": workflow.id,
                "name": workflow.name,
                "status": workflow.status,
                "status_words": STATUS_WORDS.get(workflow.status, workflow.status),
                "version": workflow.current_version,
                "in_now": sum(by_status.get(s, 0) for s in LIVE),
                "entered": entered,
                "converted": goal,
                "rate": goal / entered if entered else None,
                "revenue": money_words(revenue.get(workflow.id, {})),
                "href": journey_url(workflow.id),
                "people_href": people_url(workflow.id),
                "goal_href": people_url(workflow.id, status="goal"),
            }
        )
    installed = {w.id for w in stored}
    return {"workflows": rows, "library": library(installed)}


def library(installed: set[str]) -> list[dict[str, Any]]:
    """Each shipped workflow: what it is for, what starts it, the messages it sends."""
    cards = []
    for info in catalog.templates():
        rules = catalog.load_template(info.id)
        sends = [s for s in rules.steps if isinstance(s, SendStep)]
        cards.append(
            {
                "id": info.id,
                "name": info.name,
                "description": info.description,
                "trigger": words.trigger(rules.trigger),
                "messages": [
                    f"{words.CHANNELS.get(s.channel, s.channel)} {s.template}" for s in sends
                ],
                "steps": len(rules.steps),
                "installed": info.id in installed,
                "href": journey_url(info.id),
            }
        )
    return cards


def _status_counts(session: Session) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Run.workflow_id, Run.status, func.count()).group_by(Run.workflow_id, Run.status)
    )
    for workflow_id, status, count in rows:
        found[workflow_id][status] = int(count)
    return found


def _goal_rows(workflow_id: str | None) -> Any:
    # ``outcome = 'goal'`` as a literal: the condition of the goal rows' partial index
    query = select(RunStep.workflow_id, RunStep.run_id, RunStep.at).where(GOAL)
    if workflow_id is not None:
        query = query.where(RunStep.workflow_id == workflow_id)
    return query.subquery("goals")


def _converted(session: Session, workflow_id: str | None) -> dict[str, int]:
    goals = _goal_rows(workflow_id)
    rows = session.execute(
        select(goals.c.workflow_id, func.count(goals.c.run_id.distinct())).group_by(
            goals.c.workflow_id
        )
    )
    return {workflow: int(count) for workflow, count in rows}


def _revenue(session: Session, workflow_id: str | None) -> dict[str, dict[str, Decimal]]:
    """Per workflow and currency: orders placed by converted contacts from their run's entry
    until the goal was reached."""
    goals = _goal_rows(workflow_id)
    rows = session.execute(
        select(goals.c.workflow_id, Order.currency, func.sum(Order.amount))
        .join(Run, Run.id == goals.c.run_id)
        .join(
            Order,
            and_(
                Order.contact_id == Run.contact_id,
                Order.placed_at > Run.entered_at,
                Order.placed_at <= goals.c.at,
            ),
        )
        .group_by(goals.c.workflow_id, Order.currency)
    )
    found: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for workflow, currency, total in rows:
        found[workflow][currency] = Decimal(str(total or 0))
    return found


def money_words(totals: Mapping[str, Decimal]) -> str:
    """``1,234.50 EUR`` (several currencies joined with +); empty when there is none."""
    return " + ".join(f"{amount:,.2f} {currency}" for currency, amount in sorted(totals.items()))


# -- one workflow ----------------------------------------------------------------------------


def detail_context(
    services: Services, workflow_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """The workflow drawn with its counts, its buttons' facts, versions and a diff."""
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        rules = service.definition(session, workflow_id)
    found = figures(services).read(("workflow", workflow_id))
    counts, stats = _step_figures(rules, found["stats"], found["ended"])
    converted = found["converted"]
    revenue = money_words(found["revenue"])
    with services.uow.transaction() as session:
        missing = service.missing_templates(session, rules)
        history = versions(session, workflow_id)
        diff = _diff(session, workflow_id, workflow.current_version, query)
    in_now = stats["active"]
    goal = flow_diagram.GoalFigures(converted, stats["entered"], revenue) if rules.goal else None
    svg = flow_diagram.draw(rules, counts, href=lambda step: step_url(workflow_id, step), goal=goal)
    return {
        "workflow": workflow,
        "rules": rules,
        "status_words": STATUS_WORDS.get(workflow.status, workflow.status),
        "trigger": words.trigger(rules.trigger),
        "goal_words": words.condition(rules.goal.condition) if rules.goal else "",
        "svg": svg,
        "stats": stats,
        "in_now": in_now,
        "converted": converted,
        "rate": converted / stats["entered"] if stats["entered"] else None,
        "revenue": revenue,
        "missing": missing,
        "versions": history,
        "diff": diff,
        "steps": [
            {
                "id": s.id,
                "words": words.step(s),
                "href": step_url(workflow_id, s.id),
                "counts": counts.get(s.id, flow_diagram.StepCounts()),
            }
            for s in rules.steps
        ],
        "people_href": people_url(workflow_id),
        "goal_href": people_url(workflow_id, status="goal"),
        "try_href": journey_url(workflow_id, "try"),
        "edit_href": journey_url(workflow_id, "edit"),
        "href": journey_url(workflow_id),
    }


def step_counts(
    session: Session, workflow_id: str, rules: WorkflowDefinition
) -> tuple[dict[str, flow_diagram.StepCounts], dict[str, Any]]:
    """Each step's live figures (see the module docstring), and the workflow's statistics."""
    return _step_figures(rules, workflow_stats(session, workflow_id), _ended(session, workflow_id))


def _ended(session: Session, workflow_id: str) -> dict[str, int]:
    """Per step: the runs that ended there."""
    ended: dict[str, int] = defaultdict(int)
    for step_id, count in session.execute(
        select(Run.step_id, func.count())
        .where(Run.workflow_id == workflow_id, Run.status.in_(ENDED))
        .group_by(Run.step_id)
    ):
        if step_id is not None:
            ended[step_id] += int(count)
    return dict(ended)


def _step_figures(
    rules: WorkflowDefinition, stats: dict[str, Any], ended: Mapping[str, int]
) -> tuple[dict[str, flow_diagram.StepCounts], dict[str, Any]]:
    found = {}
    for step in rules.steps:
        figures = stats["steps"].get(step.id, {})
        outcomes = figures.get("outcomes", {})
        entered = int(outcomes.get("entered", 0))
        waiting = int(figures.get("waiting", 0))
        left = ended.get(step.id, 0)
        found[step.id] = flow_diagram.StepCounts(
            entered=entered,
            waiting=waiting,
            passed=max(entered - waiting - left, 0),
            left=left,
            branches={k: int(v) for k, v in outcomes.items() if _is_branch(k)},
        )
    return found, stats


def _is_branch(outcome: str) -> bool:
    return outcome.startswith(("branch:", "split:")) or outcome in ("event", "timeout")


def versions(session: Session, workflow_id: str) -> list[dict[str, Any]]:
    """Every version, newest first, with when and who saved it (from the audit log; versions
    saved through the API or CLI have no console author)."""
    rows = session.execute(
        select(WorkflowVersion.version, WorkflowVersion.created_at)
        .where(WorkflowVersion.workflow_id == workflow_id)
        .order_by(WorkflowVersion.version.desc())
    ).all()
    authors: dict[int, str] = {}
    for email, detail in session.execute(
        select(AuditEntry.user_email, AuditEntry.detail)
        .where(AuditEntry.target == f"workflow {workflow_id}")
        .order_by(AuditEntry.id)
    ):
        version = (detail or {}).get("version")
        if isinstance(version, int) and (detail or {}).get("changed", True):
            authors.setdefault(version, email)
    return [{"version": v, "at": at, "by": authors.get(v, "API or command line")} for v, at in rows]


def _version_number(text: str | None, field: str, default: int) -> int:
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a version number", field=field) from None


def _diff(
    session: Session, workflow_id: str, current: int, query: Mapping[str, str]
) -> dict[str, Any] | None:
    """The changes between ``from`` and ``to`` (default: the two newest versions)."""
    if current < 2 and not query.get("from"):
        return None
    newer = _version_number(query.get("to"), "to", current)
    older = _version_number(query.get("from"), "from", newer - 1)
    try:
        before = service.definition(session, workflow_id, older)
        after = service.definition(session, workflow_id, newer)
    except NotFound as problem:
        return {"problem": str(problem), "from": older, "to": newer}
    return {
        "from": older,
        "to": newer,
        "changes": versions_diff.changes(before, after) or ["No change"],
        "unified": versions_diff.unified(before, after, f"version {older}", f"version {newer}"),
        "problem": "",
    }


# -- one step: who is waiting there, what its messages did -----------------------------------


def step_context(
    services: Services, workflow_id: str, step_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """A step's figures, the people waiting there (a page) and its messages' figures."""
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        rules = service.definition(session, workflow_id)
        step = rules.step(step_id)
        people, following = _people(
            session, workflow_id, ("waiting",), step_id, query.get("cursor") or None
        )
    found = figures(services).read(("workflow", workflow_id))
    counts, stats = _step_figures(rules, found["stats"], found["ended"])
    messages = stats["steps"].get(step_id, {}).get("messages")
    reactions = (
        figures(services).read(("reactions", workflow_id, step_id))
        if isinstance(step, SendStep)
        else {}
    )
    branches = [
        {
            "label": words.branch(step, label),
            "count": counts[step_id].branches.get(label, 0),
            "target": target,
        }
        for label, target in rules.successors(step_id).items()
        if _is_branch(label)
    ]
    following_href = (
        step_url(workflow_id, step_id) + "?" + urlencode({"cursor": following}) if following else ""
    )
    return {
        "workflow": workflow,
        "step": step,
        "kind": words.KINDS.get(step.type, step.type),
        "words": words.step(step),
        "counts": counts[step_id],
        "branches": branches,
        "people": people,
        "next_href": following_href,
        "messages": messages,
        "reactions": reactions,
        "href": journey_url(workflow_id),
    }


def _reactions(session: Session, workflow_id: str, step_id: str) -> dict[str, int]:
    """Distinct contacts who opened, clicked, unsubscribed …, and orders credited, for the
    messages the step sent (as the message reports count them)."""
    step = OutboxMessage.payload["step"].as_string()
    rows = session.execute(
        select(
            MessageInteraction.kind,
            func.count(MessageInteraction.contact_id.distinct()),
        )
        .join(OutboxMessage, OutboxMessage.id == MessageInteraction.outbox_id)
        .join(Run, Run.id == OutboxMessage.run_id)
        .where(Run.workflow_id == workflow_id, step == step_id)
        .group_by(MessageInteraction.kind)
    )
    return {kind: int(count) for kind, count in rows}


def _people(
    session: Session,
    workflow_id: str,
    statuses: Sequence[str],
    step_id: str | None,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the workflow's runs in ``statuses`` (at ``step_id``), newest first, with who."""
    # at a step: read from ix_workflow_runs_step (workflow, step, status, entry, id) in order
    status = Run.status == statuses[0] if len(statuses) == 1 else Run.status.in_(statuses)
    query = select(Run).where(Run.workflow_id == workflow_id, status)
    if step_id is not None:
        query = query.where(Run.step_id == step_id)
    if cursor:
        before, before_id = decode_cursor(cursor)
        query = query.where(
            or_(Run.entered_at < before, and_(Run.entered_at == before, Run.id < before_id))
        )
    rows = list(
        session.scalars(query.order_by(Run.entered_at.desc(), Run.id.desc()).limit(PEOPLE_PAGE + 1))
    )
    page = rows[:PEOPLE_PAGE]
    ids = [run.contact_id for run in page]
    identifiers = identifiers_by_kind(session, ids)
    names = {
        c.id: " ".join(
            str(c.attributes.get(k)) for k in ("first_name", "last_name") if c.attributes.get(k)
        )
        for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))
    }
    people = [
        {
            "contact_id": run.contact_id,
            "name": names.get(run.contact_id, ""),
            "email": (identifiers.get(run.contact_id, {}).get("email") or [""])[0],
            "href": f"/contacts/{quote(run.contact_id, safe='')}",
            "status": run.status,
            "step": run.step_id,
            "entered_at": run.entered_at,
            "wake_at": run.wake_at,
            "exit_reason": run.exit_reason,
        }
        for run in page
    ]
    following = encode_cursor(page[-1].entered_at, page[-1].id) if len(rows) > PEOPLE_PAGE else None
    return people, following


PEOPLE_FILTERS = {
    "": (LIVE, "in the workflow now"),
    "waiting": (("waiting",), "waiting at a step"),
    "goal": (("goal",), "who reached the goal"),
    "done": (("done",), "who finished"),
    "exited": (("exited",), "who left early"),
}


def people_context(
    services: Services, workflow_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """The people of a workflow by status (default: in it now), a page at a time."""
    status = query.get("status", "")
    if status not in PEOPLE_FILTERS:
        raise InvalidInput(
            f"status must be one of {', '.join(s for s in PEOPLE_FILTERS if s)}", field="status"
        )
    statuses, label = PEOPLE_FILTERS[status]
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        people, following = _people(
            session, workflow_id, statuses, None, query.get("cursor") or None
        )
    extra = {"status": status} if status else {}
    return {
        "workflow": workflow,
        "label": label,
        "people": people,
        "filters": [
            {
                "key": k,
                "label": v[1],
                "href": people_url(workflow_id, **({"status": k} if k else {})),
                "current": k == status,
            }
            for k, v in PEOPLE_FILTERS.items()
        ],
        "next_href": people_url(workflow_id, **extra, cursor=following) if following else "",
        "href": journey_url(workflow_id),
    }
