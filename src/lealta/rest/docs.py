"""The interactive API docs (``/docs``), served from Lealta's own copy of Swagger UI: nothing
is loaded from a CDN, so they work offline and behind a firewall."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
VENDOR = "/console/static/vendor"


@router.get("/docs", response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI on ``/openapi.json``."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Lealta API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle-5.36.0.js",
        swagger_css_url=f"{VENDOR}/swagger-ui-5.36.0.css",
        swagger_favicon_url="/console/static/favicon.svg",
    )
