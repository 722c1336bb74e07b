"""``/v1/ads/exports``: hashed customer lists for Meta Custom Audiences and Google Customer
Match, with the counts of who was left out and why. Admin key."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lealta.contacts.search import ContactFilter, parse_attribute_filter
from lealta.rest.auth import require_admin, services
from lealta.retargeting import sync
from lealta.retargeting.people import Counts
from lealta.retargeting.service import export
from lealta.retargeting.sources import describe, source_from
from lealta.retargeting.tables import AdSync

router = APIRouter(prefix="/v1", tags=["advertising"], dependencies=[Depends(require_admin)])

SPOOL_BYTES = 8 * 1024 * 1024  # a larger file is spooled to disk, never held in memory
COUNT_HEADERS = {
    "exported": "Lealta-Exported",
    "no_ads_consent": "Lealta-Left-Out-No-Ads-Consent",
    "no_email_or_phone": "Lealta-Left-Out-No-Email-Or-Phone",
    "invalid_phone": "Lealta-Left-Out-Invalid-Phone",
    "erased": "Lealta-Left-Out-Erased",
    "left_out": "Lealta-Left-Out",
}


class SearchIn(BaseModel):
    """A contact search, as ``GET /v1/contacts`` filters (every criterion given must hold)."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, description="Name, e-mail, phone or id, as the box.")
    stage: str | None = Field(default=None, description="Lifecycle stage.")
    segment: str | None = Field(default=None, description="RFM segment.")
    cluster: int | None = Field(default=None, ge=0, le=10_000, description="K-Means cluster.")
    tag: str | None = Field(default=None, description="Carries this tag.")
    list_: str | None = Field(
        default=None, alias="list", description="Subscribed to this list (slug)."
    )
    tier: str | None = Field(default=None, description="Loyalty tier (any case).")
    score_min: float | None = Field(default=None, description="Lead score at least.")
    score_max: float | None = Field(default=None, description="Lead score at most.")
    seen_after: dt.datetime | None = Field(default=None, description="Last seen at or after.")
    seen_before: dt.datetime | None = Field(default=None, description="Last seen before.")
    attributes: list[str] = Field(
        default_factory=list, max_length=20, description="Attribute equalities, NAME:VALUE each."
    )

    def wanted(self) -> ContactFilter:
        """The search as the contacts service takes it."""
        return ContactFilter(
            q=self.q,
            stage=self.stage,
            segment=self.segment,
            cluster=self.cluster,
            tag=self.tag,
            list=self.list_,
            tier=self.tier,
            score_min=self.score_min,
            score_max=self.score_max,
            seen_after=self.seen_after,
            seen_before=self.seen_before,
            attributes=tuple(parse_attribute_filter(a) for a in self.attributes),
        )


class ExportIn(BaseModel):
    """What to export: the file's format and exactly one source of people."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["meta", "google"] = Field(
        description="meta: Custom Audiences customer file (email, phone, fn, ln, zip, ct, st, "
        "country, all hashed); google: Customer Match file (Email, Phone, First Name, Last "
        "Name hashed; Country, Zip plain)."
    )
    audience: str | None = Field(
        default=None, description="A saved audience's members (name or id)."
    )
    segment: str | None = Field(default=None, description="An RFM segment's people.")
    cluster: int | None = Field(
        default=None, ge=0, le=10_000, description="A K-Means cluster's people."
    )
    tag: str | None = Field(default=None, description="The contacts carrying this tag.")
    list_: str | None = Field(
        default=None, alias="list", description="A list's subscribed members (slug)."
    )
    workflow: str | None = Field(default=None, description="With step: a workflow's id.")
    step: str | None = Field(
        default=None, description="With workflow: everyone whose run waits at this step now."
    )
    search: SearchIn | None = Field(default=None, description="The people a contact search finds.")
    country_default: str | None = Field(
        default=None,
        description="ISO alpha-2 code for phones written without a country code and people "
        "without a country (default: the server's default phone region).",
    )


@router.post(
    "/ads/exports",
    summary="Export an advertising audience file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The CSV file (attachment). The counts are in the headers.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {
                name: {
                    "description": f"Contacts: {key.replace('_', ' ')}.",
                    "schema": {"type": "integer"},
                }
                for key, name in COUNT_HEADERS.items()
            },
        }
    },
)
def export_audience(request: Request, body: ExportIn) -> StreamingResponse:
    """Write the hashed upload file of one source's people for Meta or Google.

    Only contacts whose consent in force for the ``ads`` channel is ``granted`` are written.
    E-mails, phones and names are normalised as the platform documents and SHA-256-hashed.
    The headers count who was exported and who was left out: ``erased``, no ``ads`` consent,
    no e-mail or phone, an invalid phone only. The people are read in chunks and the file is
    spooled to disk past 8 MB, so a million contacts never sit in memory at once. An unknown
    list, workflow or step, or not exactly one source, answers 400 naming the field.
    """
    found = services(request)
    source = source_from(
        audience=body.audience,
        segment=body.segment,
        cluster=body.cluster,
        tag=body.tag,
        list_=body.list_,
        workflow=body.workflow,
        step=body.step,
        search=body.search.wanted() if body.search else None,
    )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        with found.uow.transaction() as session:
            counts = export(
                session,
                source,
                text,
                format_=body.format,
                country_default=body.country_default or found.settings.default_phone_region,
            )
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = f"{body.format}-{_slug(describe(source))}.csv"
    return StreamingResponse(
        _chunks(spool),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **_headers(counts)},
    )


def _headers(counts: Counts) -> dict[str, str]:
    values = counts.as_dict()
    return {name: str(values[key]) for key, name in COUNT_HEADERS.items()}


def _slug(text: str) -> str:
    kept = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in kept.split("-") if part)[:80] or "audience"


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while block := spool.read(64 * 1024):
            yield block
    finally:
        spool.close()


# -- syncs ---------------------------------------------------------------------------------


class SyncIn(BaseModel):
    """An audience to keep current at a connector's URL."""

    model_config = ConfigDict(extra="forbid")

    audience: str = Field(min_length=1, max_length=100, description="The audience (name or id).")
    url: str = Field(
        min_length=1,
        max_length=200,
        description="The connector's http(s) URL (the webhooks go there).",
    )
    format: Literal["meta", "google"] = Field(
        default="meta", description="The format of the hashed row in each webhook."
    )


class SyncOut(BaseModel):
    """An ad sync."""

    id: int = Field(description="The sync's id.")
    audience: str = Field(description="The audience's name.")
    url: str = Field(description="Where the webhooks go.")
    format: str = Field(description="meta or google.")
    created_at: dt.datetime = Field(description="When it was created; changes since are sent.")


def _sync_out(row: AdSync, audience: str) -> SyncOut:
    return SyncOut(
        id=row.id, audience=audience, url=row.url, format=row.format, created_at=row.created_at
    )


@router.post("/ads/syncs", response_model=SyncOut, status_code=201, summary="Add an ad sync")
def create_sync(request: Request, body: SyncIn) -> SyncOut:
    """Keep an audience current at a connector: from now on, each ``Audience Entered`` (of a
    person who may be exported), ``Audience Exited`` and ``ads`` decision of a member is one
    signed webhook (``X-Lealta-Signature``) with the person's hashed row, sent by the worker.
    Upload the current members once with ``POST /v1/ads/exports``. An unknown audience, a
    URL that is not http(s) answer 400 naming the field."""
    found = services(request)
    with found.uow.transaction() as session:
        row = sync.create(
            session, audience=body.audience, url=body.url, format_=body.format,
            now=found.clock.now(),
        )  # fmt: skip
        name = next(n for s, n in sync.list_(session) if s.id == row.id)
        return _sync_out(row, name)


@router.get("/ads/syncs", response_model=list[SyncOut], summary="List the ad syncs")
def list_syncs(request: Request) -> list[SyncOut]:
    """Every ad sync, oldest first."""
    with services(request).uow.transaction() as session:
        return [_sync_out(row, name) for row, name in sync.list_(session)]


@router.delete("/ads/syncs/{sync_id}", status_code=204, summary="Stop an ad sync")
def delete_sync(
    request: Request,
    sync_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="The sync's id.")],
) -> Response:
    """Stop sending a sync's changes (webhooks already queued still go); 404 when unknown."""
    with services(request).uow.transaction() as session:
        sync.delete(session, sync_id)
    return Response(status_code=204)
