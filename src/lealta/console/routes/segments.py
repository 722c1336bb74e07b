"""The Segments page: RFM segments, the R x F grid, movement between two dates, clusters and
"recompute now"; a segment's contacts as CSV; the contacts of one move."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.bootstrap import Services
from lealta.console.auth import SignedIn, signed_in
from lealta.console.edits import audit
from lealta.console.jobs_page import recompute_context
from lealta.console.rendering import HEADERS, render, require, services_of
from lealta.console.segments_page import moves_context, segments_context
from lealta.errors import InvalidInput
from lealta.segmentation.members import PAGE, Member, csv_lines, in_segment, members_page
from lealta.storage.retry import in_transaction

router = APIRouter(include_in_schema=False)


@router.get("/segments", response_class=HTMLResponse)
def segments(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """Segments with their customers and worth, the R x F grid, the moves between two dates
    (``from``, ``to``), clusters, and the recompute panel."""
    services = services_of(request)
    context = segments_context(services, dict(request.query_params))
    status = 400 if context["problem"] else 200
    return render(
        request, "segments.html", user=user, status=status, **context, **recompute_context(services)
    )


@router.get("/segments/moves", response_class=HTMLResponse)
def moves(request: Request, user: SignedIn = Depends(signed_in)) -> HTMLResponse:
    """The contacts of one cell of the movement matrix, a page at a time."""
    try:
        context = moves_context(services_of(request), dict(request.query_params))
    except InvalidInput as problem:
        return render(request, "segment_moves.html", user=user, status=400, problem=str(problem))
    return render(request, "segment_moves.html", user=user, problem="", **context)


def record_download(services: Services, user: SignedIn, segment: str) -> int:
    """Write the download of ``segment``'s list to the audit log; its customers now."""
    now = services.clock.now()

    def work(session: Session) -> int:
        count = int(session.scalar(select(func.count()).where(in_segment(segment))) or 0)
        if count:
            detail = {"segment": segment, "customers": count}
            audit(session, user, "segment downloaded", f"segment {segment}", now, detail)
        return count

    count: int = in_transaction(services.uow, work)
    return count


def _pages(services: Services, segment: str) -> Iterator[list[Member]]:
    """The segment's contacts a page at a time, each page its own short transaction."""
    after = ""
    while True:
        with services.uow.transaction() as session:
            page = members_page(session, in_segment(segment), after=after, limit=PAGE)
        if page:
            yield page
        if len(page) < PAGE:
            return
        after = page[-1].id


@router.get("/segments/export")
def export(request: Request, segment: str = "", user: SignedIn = Depends(signed_in)) -> Response:
    """The contacts of a segment as CSV (id, e-mail, name, scores, segment, cluster, recency,
    orders, revenue), streamed page by page. Any console user may download a segment's list
    (a marketing list, not a person's data export); every download is audited."""
    require(user, "read", "download a segment")
    services = services_of(request)
    if not segment or not record_download(services, user, segment):
        return render(request, "segment_missing.html", user=user, status=404, segment=segment)
    filename = "segment-" + "".join(c if c.isalnum() else "-" for c in segment).lower() + ".csv"
    return StreamingResponse(
        csv_lines(_pages(services, segment)),
        media_type="text/csv; charset=utf-8",
        headers={
            **HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"; '
            f"filename*=UTF-8''{quote(filename)}",
        },
    )
