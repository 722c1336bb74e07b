"""The A/B split and NPS reports (admin key).

* ``GET /v1/reports/splits``: the A/B splits of workflows, per branch, with each branch
  tested against the control (:mod:`lealta.feedback.splits`).
* ``GET /v1/reports/nps``: the NPS of each survey with its latest comments
  (:mod:`lealta.feedback.nps`).

Both take the period and ``audience=ID`` as the message report does
(:mod:`lealta.rest.deliverability`): then only the members' runs and answers count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from lealta.contacts.schemas import UtcTime
from lealta.feedback.nps import CATEGORIES, nps
from lealta.feedback.splits import split_results
from lealta.moments import Moment
from lealta.rest.auth import require_admin, services
from lealta.rest.deliverability import audience_contacts, utc_or_none

router = APIRouter(prefix="/v1", tags=["deliverability"])
T = TypeVar("T")

SinceQuery = Annotated[Moment | None, Query(description="From (ISO 8601); default: all.")]
UntilQuery = Annotated[Moment | None, Query(description="Before (ISO 8601); default: all.")]
AudienceQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=2**63 - 1,
        description="Only this audience's members (its id): their runs, answers.",
    ),
]


@dataclass(frozen=True)
class Period:
    """What a report is asked for: from ``since`` to before ``until`` (UTC; None: unbounded),
    of ``audience``'s members (None: everyone)."""

    since: dt.datetime | None
    until: dt.datetime | None
    audience: int | None


def period(
    since: SinceQuery = None, until: UntilQuery = None, audience: AudienceQuery = None
) -> Period:
    """Dependency: the report's period and audience from the query."""
    return Period(utc_or_none(since), utc_or_none(until), audience)


# The bounds of "all" for the reports whose queries need both.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


class BranchOut(BaseModel):
    """One branch of a split: its people and what they did after the split."""

    name: str
    people: int = Field(description="Runs sent down the branch.")
    opened: int = Field(description="Of them, runs with an open of a message sent after it.")
    clicked: int = Field(description="Of them, runs with a click of a message sent after it.")
    goal: int = Field(description="Of them, runs that reached the workflow's goal.")
    revenue: str = Field(description="Orders credited to the messages after it (decimal).")


class ComparisonOut(BaseModel):
    """A branch tested against the control by the two-proportion z-test."""

    measure: Literal["clicked", "goal"]
    control: str
    branch: str
    z: float | None
    p_value: float | None = Field(description="Two-sided; null when the test cannot be made.")
    significant: bool = Field(description="At 95 %, and with enough data.")
    enough: bool = Field(description="5 people who did and 5 who did not in each branch.")
    verdict: str = Field(description="The result in words, as the console shows it.")


class SplitOut(BaseModel):
    """One split step of a workflow, the control (first by name) first."""

    workflow: str
    workflow_name: str
    step: str
    branches: list[BranchOut]
    comparisons: list[ComparisonOut]


class SplitReport(BaseModel):
    """The splits made in `[since, until)`, by workflow name and step."""

    since: UtcTime | None
    until: UtcTime | None
    audience: int | None = Field(None, description="The audience filtered by (its id), if any.")
    splits: list[SplitOut]


class CommentOut(BaseModel):
    """A comment left after answering."""

    contact_id: str
    score: int
    category: str
    at: UtcTime
    text: str


class SurveyOut(BaseModel):
    """One survey's answers in force: NPS = 100 x (promoters - detractors) / answers."""

    survey: str
    answers: int
    nps: int | None = Field(description="-100 to 100; null without answers.")
    promoter: int
    passive: int
    detractor: int
    comments: list[CommentOut] = Field(description="The newest comments, newest first.")


class NpsReport(BaseModel):
    """Every survey answered in `[since, until)`, most answers first."""

    since: UtcTime | None
    until: UtcTime | None
    audience: int | None = Field(None, description="The audience filtered by (its id), if any.")
    surveys: list[SurveyOut]


@router.get("/reports/splits", response_model=SplitReport, dependencies=[Depends(require_admin)])
def report_splits(request: Request, asked: Annotated[Period, Depends(period)]) -> SplitReport:
    """A/B splits of workflows: per branch its people, opens, clicks, goals and revenue, and
    each branch tested against the control on the click and goal rates."""
    found = _over_period(request, split_results, asked)
    splits = [
        SplitOut(
            workflow=split.workflow,
            workflow_name=split.workflow_name,
            step=split.step,
            branches=[
                BranchOut(**{**vars(branch), "revenue": str(branch.revenue)})
                for branch in split.branches
            ],
            comparisons=[
                ComparisonOut(
                    measure=measure,
                    control=c.a.name,
                    branch=c.b.name,
                    z=c.z,
                    p_value=c.p_value,
                    significant=c.significant,
                    enough=c.enough,
                    verdict=c.verdict("click rate" if measure == "clicked" else "goal rate"),
                )
                for measure in ("clicked", "goal")
                for c in split.comparisons(measure)
            ],
        )
        for split in found
    ]
    return SplitReport(**vars(asked), splits=splits)


@router.get("/reports/nps", response_model=NpsReport, dependencies=[Depends(require_admin)])
def report_nps(request: Request, asked: Annotated[Period, Depends(period)]) -> NpsReport:
    """The NPS of each survey: promoters, passives, detractors and the latest comments."""
    found = _over_period(request, nps, asked)
    surveys = [
        SurveyOut(
            survey=survey.survey,
            answers=survey.answers,
            nps=survey.score,
            **{category: survey.counts[category] for category in CATEGORIES},
            comments=[CommentOut(**vars(comment)) for comment in survey.comments],
        )
        for survey in found
    ]
    return NpsReport(**vars(asked), surveys=surveys)


def _over_period(request: Request, report: Callable[..., list[T]], asked: Period) -> list[T]:
    """``report`` (a service taking ``since``, ``until`` and ``contacts``) over the period, of
    everyone or of the audience's members."""
    with services(request).uow.transaction() as session:
        contacts = audience_contacts(session, asked.audience)
        return report(
            session, since=asked.since or EARLIEST, until=asked.until or LATEST, contacts=contacts
        )
