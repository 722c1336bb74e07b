"""Where the people of an advertising export come from: the query of their contact ids.

A source is an audience (its members now), an RFM segment, a cluster, a tag, a list (its
subscribed members), a contact search (:class:`lealta.contacts.search.ContactFilter`) or the
contacts waiting at one step of one workflow. Each gives one SQL query of distinct contact
ids in id order, with every user value bound; erased contacts are part of it (they are
counted as left out), merged ones are not (their person lives on in the contact they were
merged into).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_never

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from lealta.audiences import service as audiences
from lealta.audiences.tables import AudienceMember
from lealta.automations.tables import Run, Workflow, WorkflowVersion
from lealta.contacts.search import ContactFilter, filters
from lealta.contacts.tables import Contact, ContactList, ContactTag, ListMembership
from lealta.errors import InvalidInput, NotFound
from lealta.segmentation.tables import ContactRfm


@dataclass(frozen=True)
class InAudience:
    """The members of a saved audience (by name or id) as of its latest refresh."""

    audience: str


@dataclass(frozen=True)
class Segment:
    """The contacts of an RFM segment (``contact_rfm.segment``)."""

    name: str


@dataclass(frozen=True)
class Cluster:
    """The contacts of a K-Means cluster (``contact_rfm.cluster``)."""

    number: int


@dataclass(frozen=True)
class Tag:
    """The contacts carrying a tag."""

    tag: str


@dataclass(frozen=True)
class OnList:
    """The subscribed members of a list (by slug)."""

    slug: str


@dataclass(frozen=True)
class Search:
    """The contacts a contact search finds (every criterion must hold)."""

    wanted: ContactFilter


@dataclass(frozen=True)
class WaitingAtStep:
    """Everyone whose run of ``workflow`` waits at ``step`` now."""

    workflow: str
    step: str


Source = InAudience | Segment | Cluster | Tag | OnList | Search | WaitingAtStep


def describe(source: Source) -> str:
    """The source in words, for reports and file names."""
    match source:
        case InAudience(audience):
            return f"audience {audience}"
        case Segment(name):
            return f"segment {name}"
        case Cluster(number):
            return f"cluster {number}"
        case Tag(tag):
            return f"tag {tag}"
        case OnList(slug):
            return f"list {slug}"
        case WaitingAtStep(workflow, step):
            return f"waiting at step {step} of workflow {workflow}"
        case _:
            return "contact search"


def contact_ids(session: Session, source: Source, *, region: str) -> Select[Any]:
    """The distinct ids of ``source``'s contacts (merged ones excluded), in id order.
    Unknown lists, workflows and steps are refused naming the field."""
    column, where = _members(session, source, region=region)
    found = select(column).where(*where).subquery()
    return (
        select(Contact.id)
        .where(Contact.id.in_(select(found.c[0])), Contact.merged_into.is_(None))
        .order_by(Contact.id)
    )


def _members(
    session: Session, source: Source, *, region: str
) -> tuple[Any, list[ColumnElement[bool]]]:
    """The contact id column that lists ``source``'s people, and the tests its rows meet."""
    match source:
        case InAudience(audience):
            audience_id = _audience_id(session, audience)
            return AudienceMember.contact_id, [AudienceMember.audience_id == audience_id]
        case Segment(name):
            return ContactRfm.contact_id, [ContactRfm.segment == name]
        case Cluster(number):
            return ContactRfm.contact_id, [ContactRfm.cluster == number]
        case Tag(tag):
            return ContactTag.contact_id, [ContactTag.tag == tag]
        case OnList(slug):
            list_id = _list_id(session, slug)
            return ListMembership.contact_id, [
                ListMembership.list_id == list_id,
                ListMembership.status == "subscribed",
            ]
        case WaitingAtStep(workflow, step):
            _check_step(session, workflow, step)
            return Run.contact_id, [
                Run.workflow_id == workflow,
                Run.step_id == step,
                Run.status == "waiting",
            ]
        case Search(wanted):
            return Contact.id, filters(session, wanted, region=region, walk=False)
    assert_never(source)


def _audience_id(session: Session, key: str) -> int:
    try:
        return audiences.get(session, key).id
    except NotFound:
        raise InvalidInput(f"no audience {key!r}", field="audience") from None


def _list_id(session: Session, slug: str) -> int:
    found = session.scalar(select(ContactList.id).where(ContactList.slug == slug))
    if found is None:
        raise InvalidInput(f"no list {slug!r}", field="list")
    return found


def _check_step(session: Session, workflow: str, step: str) -> None:
    if session.get(Workflow, workflow) is None:
        raise InvalidInput(f"no workflow {workflow!r}", field="workflow")
    definitions = session.scalars(
        select(WorkflowVersion.definition).where(WorkflowVersion.workflow_id == workflow)
    )
    steps = {
        str(s.get("id"))
        for definition in definitions
        for s in (definition or {}).get("steps", [])
        if isinstance(s, dict)
    }
    if step not in steps:
        known = ", ".join(sorted(steps)) or "none"
        raise InvalidInput(
            f"workflow {workflow!r} has no step {step!r}; its steps: {known}", field="step"
        )


def source_from(
    *,
    audience: str | None = None,
    segment: str | None = None,
    cluster: int | None = None,
    tag: str | None = None,
    list_: str | None = None,
    workflow: str | None = None,
    step: str | None = None,
    search: ContactFilter | None = None,
) -> Source:
    """The one source named by the options of the CLI or the API; refused (naming the field)
    when none or several are given, or a workflow without its step."""
    if (workflow is None) != (step is None):
        raise InvalidInput(
            "a workflow source needs both the workflow and its step",
            field="step" if step is None else "workflow",
        )
    given: list[Source] = []
    if audience:
        given.append(InAudience(audience))
    if segment:
        given.append(Segment(segment))
    if cluster is not None:
        given.append(Cluster(cluster))
    if tag:
        given.append(Tag(tag))
    if list_:
        given.append(OnList(list_))
    if workflow and step:
        given.append(WaitingAtStep(workflow, step))
    if search is not None:
        given.append(Search(search))
    if len(given) != 1:
        raise InvalidInput(
            "name exactly one source: an audience, a segment, a cluster, a tag, a list, a "
            f"workflow and its step, or a contact search ({len(given)} given)",
            field="source",
        )
    return given[0]
