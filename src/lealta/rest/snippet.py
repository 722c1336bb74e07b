"""``GET /t.js``: the web tracking snippet, cacheable, no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lealta import __version__
from lealta.rest.auth import services
from lealta.snippet.script import render

router = APIRouter(tags=["forms"])

CACHE_CONTROL = "public, max-age=300"


@router.get(
    "/t.js",
    response_class=Response,
    responses={200: {"content": {"application/javascript": {}}, "description": "The tracker."}},
)
def tracker(request: Request) -> Response:
    """The tracking script sites embed with ``<script src="…/t.js" data-key="WRITE_KEY" async>``.

    Optional attributes: ``data-require-consent``, ``data-respect-dnt``, ``data-api``,
    ``data-cookie-domain``. It sends page views, ``data-lealta-track`` clicks and
    ``data-lealta-form`` submissions to ``/v1/batch`` and exposes ``window.lealta``.
    """
    settings = services(request).settings
    script = render(version=__version__, respect_do_not_track=settings.respect_do_not_track)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": script.etag}
    if request.headers.get("if-none-match") == script.etag:
        return Response(status_code=304, headers=headers)
    return Response(script.source, media_type="application/javascript", headers=headers)
